package io.qparams.job.testutil;

import org.apache.flink.api.common.JobID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;

/**
 * What the cluster's REST API says about a job: restarts and failures, as an operator would read
 * them.
 */
public final class FlinkRest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final URI base;

    /** How long {@link #get} keeps asking when the REST server does not answer in time. */
    static final Duration ANSWER_DEADLINE = Duration.ofMinutes(2);

    /**
     * @param restAddress the REST endpoint, e.g. from {@code @InjectClusterRESTAddress}
     */
    public FlinkRest(URI restAddress) {
        String s = restAddress.toString();
        this.base = URI.create(s.endsWith("/") ? s : s + "/");
    }

    /**
     * One answer of the REST API. A request that times out is sent again until {@link
     * #ANSWER_DEADLINE}: on a loaded machine the MiniCluster's REST server can take longer than one
     * request's timeout to answer, and the test waits for the answer, not for the first try.
     */
    public JsonNode get(String path) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + ANSWER_DEADLINE.toNanos();
        HttpResponse<String> response;
        while (true) {
            try {
                response =
                        http.send(
                                HttpRequest.newBuilder(base.resolve(path))
                                        .timeout(Duration.ofSeconds(20))
                                        .GET()
                                        .build(),
                                HttpResponse.BodyHandlers.ofString());
                break;
            } catch (HttpTimeoutException e) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(
                            "GET " + path + ": no answer within " + ANSWER_DEADLINE, e);
                }
            }
        }
        if (response.statusCode() != 200) {
            throw new AssertionError(
                    "GET " + path + ": HTTP " + response.statusCode() + " " + response.body());
        }
        return JSON.readTree(response.body());
    }

    /**
     * The job's {@code numRestarts} metric ({@code GET /jobs/<id>/metrics?get=numRestarts}); waits
     * for the first fetch.
     */
    public long numRestarts(JobID job) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            JsonNode metrics = get("jobs/" + job + "/metrics?get=numRestarts");
            if (metrics.isArray() && metrics.size() > 0) {
                return Long.parseLong(metrics.get(0).get("value").asText());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no numRestarts metric for job " + job + ": " + metrics);
            }
            Thread.sleep(200);
        }
    }

    /**
     * Entries of {@code GET /jobs/<id>/exceptions}: every failure that restarted (or ended) the
     * job. The REST server answers from a copy of the job's state that may be seconds old.
     */
    public int exceptionCount(JobID job) throws IOException, InterruptedException {
        JsonNode history = get("jobs/" + job + "/exceptions").get("exceptionHistory");
        return history == null ? 0 : history.get("entries").size();
    }

    /**
     * Waits until the job's {@code numRestarts} is at least {@code n} (the REST metrics are
     * refreshed every few seconds); fails after the timeout.
     */
    public void awaitRestarts(JobID job, long n, Duration timeout)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long restarts;
        while ((restarts = numRestarts(job)) < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(
                        "job "
                                + job
                                + " restarted "
                                + restarts
                                + " times after "
                                + timeout
                                + ", expected "
                                + n
                                + " or more");
            }
            Thread.sleep(500);
        }
    }
}

package io.qparams.job.testutil;

import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.testutils.InMemoryReporter;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The job's {@code qparams} counters as a MiniCluster reports them to a reporter (Flink's
 * InMemoryReporter), summed over a job's operators and subtasks as a Prometheus query would sum
 * them: {@code batches_applied}, {@code resets}, {@code nonfinite_values}, {@code drift_events},
 * and {@code dead_letters.<reason>} for each reason class.
 */
public final class ReportedMetrics {
    private final InMemoryReporter reporter = InMemoryReporter.create();

    /** The MiniCluster's configuration with this reporter added. */
    public Configuration addTo(Configuration configuration) {
        return reporter.addToConfiguration(configuration);
    }

    /** Every qparams counter of the job, summed; a dead letter class under its reason. */
    public Map<String, Long> counts(JobID job) {
        Map<String, Long> counts = new TreeMap<>();
        for (Map.Entry<MetricGroup, Map<String, Metric>> group :
                reporter.getMetricsByGroup().entrySet()) {
            Map<String, String> variables = group.getKey().getAllVariables();
            if (!job.toString().equals(variables.get("<job_id>"))
                    || !variables.containsKey("<operator_name>")
                    || !isQParams(group.getKey().getScopeComponents())) {
                continue;
            }
            String reason = variables.get("<reason>");
            for (Map.Entry<String, Metric> metric : group.getValue().entrySet()) {
                String name = reason == null ? metric.getKey() : "dead_letters." + reason;
                counts.merge(name, ((Counter) metric.getValue()).getCount(), Long::sum);
            }
        }
        return counts;
    }

    /**
     * An operator's groups of the job's own metrics: {@code ...qparams} and {@code
     * ...qparams.dead_letters.reason.<value>} (the job is named qparams too: only the end of an
     * operator's scope tells).
     */
    private static boolean isQParams(String[] scope) {
        int n = scope.length;
        return scope[n - 1].equals("qparams")
                || n >= 4 && scope[n - 4].equals("qparams") && scope[n - 3].equals("dead_letters");
    }

    /**
     * Waits until the job's counters named in {@code expected} have those values (counters move in
     * the task threads, a little after the records they count are out), then checks them; one
     * failure names every counter that differs.
     */
    public void awaitCounts(JobID job, Map<String, Long> expected, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, Long> got = pick(counts(job), expected);
        while (!got.equals(expected) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            got = pick(counts(job), expected);
        }
        assertEquals(new TreeMap<>(expected), got, "the job's qparams counters");
    }

    private static Map<String, Long> pick(Map<String, Long> counts, Map<String, Long> names) {
        Map<String, Long> picked = new TreeMap<>();
        for (String name : names.keySet()) {
            picked.put(name, counts.get(name));
        }
        return picked;
    }
}

package io.qparams.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * {@code qparams run --print}: follows the qparams topic and prints each record as it arrives,
 * either as the JSON the topic holds or as one short line per record (per-channel vectors cut to
 * their first entries). Reads committed records only, so exactly-once output shows as it commits.
 */
final class QParamsPrinter implements Runnable {
    private static final JsonFactory JSON = new JsonFactory();
    private static final int SHOWN_CHANNELS = 3;

    private final Properties client;
    private final String topic;
    private final boolean rawJson;
    private final long maxRecords;
    private final boolean fromStart;
    private final PrintStream out;
    private final Runnable onDone;
    private volatile boolean stopped;

    /**
     * @param client the Kafka client settings (bootstrap servers, --kafka-properties)
     */
    QParamsPrinter(
            Properties client,
            String topic,
            boolean rawJson,
            long maxRecords,
            boolean fromStart,
            PrintStream out,
            Runnable onDone) {
        this.client = client;
        this.topic = topic;
        this.rawJson = rawJson;
        this.maxRecords = maxRecords;
        this.fromStart = fromStart;
        this.out = out;
        this.onDone = onDone;
    }

    /** Ends the loop after the current poll; the consumer then closes cleanly. */
    void stop() {
        stopped = true;
    }

    @Override
    public void run() {
        Properties props = new Properties();
        props.putAll(client);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "qparams-printer");
        long printed = 0;
        try (KafkaConsumer<String, byte[]> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
            // Every partition assigned, no consumer group: the printer needs Read on the topic
            // only, and leaves no group behind on the cluster.
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo info : consumer.partitionsFor(topic)) {
                partitions.add(new TopicPartition(topic, info.partition()));
            }
            consumer.assign(partitions);
            if (fromStart) {
                consumer.seekToBeginning(partitions);
            } else {
                consumer.seekToEnd(partitions);
            }
            while (!stopped && (maxRecords <= 0 || printed < maxRecords)) {
                for (ConsumerRecord<String, byte[]> record :
                        consumer.poll(Duration.ofMillis(500))) {
                    out.println(
                            rawJson
                                    ? new String(record.value(), StandardCharsets.UTF_8)
                                    : summarize(record.value()));
                    if (maxRecords > 0 && ++printed >= maxRecords) {
                        break;
                    }
                }
                out.flush();
            }
        } finally {
            onDone.run();
        }
    }

    /**
     * {@code fc.output #12 min_val=-3.12 max_val=4.56 scale=0.0301 zero_point=104
     * MovingAverageMinMaxObserver/quint8}, with {@code DRIFT drift_ratio=0.31} after the zero point
     * when the record says {@code "drift": true}, and {@code NONFINITE 3/1024} when the batch held
     * NaN or infinities (its {@code nonfinite} and {@code values}).
     */
    static String summarize(byte[] json) {
        Map<String, String> fields = new LinkedHashMap<>();
        try (JsonParser parser = JSON.createParser(json)) {
            parser.nextToken();
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonToken token = parser.nextToken();
                if (token == JsonToken.START_ARRAY) {
                    List<String> items = new ArrayList<>();
                    while (parser.nextToken() != JsonToken.END_ARRAY) {
                        items.add(parser.getText());
                    }
                    String shown =
                            String.join(
                                    ",", items.subList(0, Math.min(SHOWN_CHANNELS, items.size())));
                    fields.put(
                            name,
                            "["
                                    + shown
                                    + (items.size() > SHOWN_CHANNELS ? ",... x" + items.size() : "")
                                    + "]");
                } else if (token == JsonToken.START_OBJECT) {
                    parser.skipChildren();
                } else {
                    fields.put(name, parser.getText());
                }
            }
        } catch (IOException e) {
            return "unreadable record: " + e.getMessage();
        }
        StringBuilder line =
                new StringBuilder(
                        String.format("%-24s #%-4s", fields.get("tensor"), fields.get("batches")));
        if (!"ok".equals(fields.get("status"))) {
            line.append(" ")
                    .append(fields.get("status"))
                    .append(": ")
                    .append(fields.getOrDefault("reason", ""));
        }
        line.append(" min_val=")
                .append(fields.get("min_val"))
                .append(" max_val=")
                .append(fields.get("max_val"))
                .append(" scale=")
                .append(fields.get("scale"))
                .append(" zero_point=")
                .append(fields.get("zero_point"));
        if ("true".equals(fields.get("drift"))) {
            // contract section 7: the observer's range drifted (its optional drift fields)
            line.append(" DRIFT");
            if (fields.containsKey("drift_ratio")) {
                line.append(" drift_ratio=").append(fields.get("drift_ratio"));
            }
        }
        String nonFinite = fields.get("nonfinite");
        if (nonFinite != null && !"0".equals(nonFinite)) {
            // contract section 7: the batch's NaN and infinities, whatever the policy did with them
            line.append(" NONFINITE ").append(nonFinite).append('/').append(fields.get("values"));
        }
        line.append("  ").append(fields.get("observer")).append("/").append(fields.get("dtype"));
        return line.toString();
    }
}

package io.qparams.cli;

import io.qparams.connectors.records.ContractSchemas;
import io.qparams.connectors.records.QParamsRecord;
import io.qparams.connectors.records.QParamsRecordDecoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's first command, in-process: {@code qparams run --demo} starts a real embedded broker,
 * runs the job on Flink's local executor, and qparams records flow out of the output topic.
 */
class RunCommandITCase {

    @Test
    @Timeout(240)
    void demoShowsQParamsFlowingThroughAnEmbeddedBroker() throws IOException {
        System.setProperty("qparams.home", "..");
        CliRun run =
                CliRun.of(
                        "run",
                        "--demo",
                        "--demo-step-ms",
                        "200",
                        "--print",
                        "json",
                        "--max-records",
                        "90",
                        "--parallelism",
                        "2");
        String stderr = run.err();
        assertEquals(0, run.status(), stderr);
        assertTrue(stderr.contains("embedded Kafka broker at "), stderr);

        List<String> lines = run.out().lines().toList();
        assertEquals(90, lines.size(), "stdout holds exactly the records");
        Map<String, Long> lastBatches = new HashMap<>();
        boolean sawPerChannel = false;
        for (String line : lines) {
            ContractSchemas.assertRecord(line.getBytes(StandardCharsets.UTF_8));
            QParamsRecord record =
                    QParamsRecordDecoder.decode(line.getBytes(StandardCharsets.UTF_8));
            assertTrue(record.isOk(), line);
            sawPerChannel |= record.perChannel();
            // Per tensor, records arrive in order: batches counts 1, 2, 3, ...
            long previous = lastBatches.getOrDefault(record.tensor(), 0L);
            assertEquals(previous + 1, record.batches(), "batches of " + record.tensor());
            lastBatches.put(record.tensor(), record.batches());
            assertEquals("activations", record.source().topic());
        }
        assertTrue(
                sawPerChannel,
                "the demo's conv outputs use the per-channel rule of conf/observers.yaml");
        assertTrue(lastBatches.size() > 10, "records of many tensors: " + lastBatches.keySet());
    }
}

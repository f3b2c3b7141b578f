package io.qparams.job.testutil;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;

/** The ITCases' Flink MiniClusters, one factory for all (register the result as an extension). */
public final class MiniClusters {
    private MiniClusters() {}

    /** One TaskManager with {@code slots} slots, Flink's default configuration. */
    public static MiniClusterExtension oneTaskManager(int slots) {
        return taskManagers(1, slots, new Configuration());
    }

    /** One TaskManager with {@code slots} slots and the given configuration. */
    public static MiniClusterExtension oneTaskManager(int slots, Configuration configuration) {
        return taskManagers(1, slots, configuration);
    }

    /** {@code count} TaskManagers of {@code slotsEach} slots, with the given configuration. */
    public static MiniClusterExtension taskManagers(
            int count, int slotsEach, Configuration configuration) {
        return new MiniClusterExtension(
                new MiniClusterResourceConfiguration.Builder()
                        .setConfiguration(configuration)
                        .setNumberTaskManagers(count)
                        .setNumberSlotsPerTaskManager(slotsEach)
                        .build());
    }
}

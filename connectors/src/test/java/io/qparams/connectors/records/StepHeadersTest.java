package io.qparams.connectors.records;

import io.qparams.observers.InvalidBatchException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class StepHeadersTest {
    @Test
    void noHeadersIsNoStep() throws Exception {
        assertNull(StepHeaders.parse(null, null, null));
    }

    @Test
    void threeDecimalsAreAStep() throws Exception {
        assertEquals(
                new StepHeaders.Step(9223372036854775807L, 65536, 65535),
                StepHeaders.parse("9223372036854775807", "65536", "65535"));
        assertEquals(new StepHeaders.Step(0, 1, 0), StepHeaders.parse("0", "1", "0"));
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            nullValues = "NULL",
            value = {
                "1|NULL|0|data-parallel headers qparams.step, qparams.world-size and qparams.rank"
                        + " go together: qparams.world-size is missing",
                "NULL|4|0|data-parallel headers qparams.step, qparams.world-size and qparams.rank"
                        + " go together: qparams.step is missing",
                "1|4|NULL|data-parallel headers qparams.step, qparams.world-size and qparams.rank"
                        + " go together: qparams.rank is missing",
                "-1|4|0|qparams.step '-1': expected a decimal integer from 0 to"
                        + " 9223372036854775807",
                "9223372036854775808|4|0|qparams.step '9223372036854775808': expected a decimal"
                        + " integer from 0 to 9223372036854775807",
                "' 1'|4|0|qparams.step '1' (with spaces): expected a decimal integer from 0 to"
                        + " 9223372036854775807",
                "''|4|0|qparams.step is blank: expected a decimal integer from 0 to"
                        + " 9223372036854775807",
                "1|0|0|qparams.world-size '0': must be at least 1",
                "1|65537|0|qparams.world-size '65537': expected a decimal integer from 0 to 65536",
                "1|4|4|qparams.rank 4 is not below qparams.world-size 4",
                "1|4|+1|qparams.rank '+1': expected a decimal integer from 0 to 2147483647",
            })
    void badHeadersAreRefusedWithAReason(String step, String worldSize, String rank, String why) {
        InvalidBatchException e =
                assertThrows(
                        InvalidBatchException.class,
                        () -> StepHeaders.parse(step, worldSize, rank));
        assertEquals(why, e.getMessage());
    }
}

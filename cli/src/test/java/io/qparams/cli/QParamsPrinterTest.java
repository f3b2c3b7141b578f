package io.qparams.cli;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one-line summary of a record that {@code --print summary} and a piped {@code tail} print. */
class QParamsPrinterTest {
    private static String summarize(String counts) {
        String record =
                "{\"tensor\":\"fc1.output\",\"status\":\"ok\",\"observer\":\"MinMaxObserver\","
                        + "\"dtype\":\"quint8\",\"qscheme\":\"per_tensor_affine\",\"quant_min\":0,"
                        + "\"quant_max\":255,\"batches\":3"
                        + counts
                        + ",\"min_val\":-1.0,\"max_val\":2.0,\"scale\":0.011764706,"
                        + "\"zero_point\":85,\"source\":{\"file\":\"a.npy\",\"index\":2}}";
        return QParamsPrinter.summarize(record.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aBatchWithNanOrInfinitiesSaysHowManyOfItsValues() {
        String line = summarize(",\"values\":1024,\"nonfinite\":3,\"zeros\":500");
        assertTrue(line.contains(" zero_point=85 NONFINITE 3/1024  MinMaxObserver/quint8"), line);
    }

    @Test
    void aFiniteBatchOrStatsSayNothingOfThem() {
        String finite = summarize(",\"values\":1024,\"nonfinite\":0,\"zeros\":500");
        assertFalse(finite.contains("NONFINITE"), finite);
        assertEquals(finite, summarize(""), "stats (no counts) print as a finite batch");
    }
}

package io.qparams.connectors.batch;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.NumberInput;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * JSON numbers are read with Jackson's FastDoubleParser (JsonBatchDecoder.FACTORY, FloatJson's
 * round-trip check): it must give the double {@link Double#parseDouble} gives for every input,
 * above all the hard ones (halfway between two doubles or two floats, long mantissas, extreme
 * exponents), or the stats and records would not be bit-exact.
 */
class JsonNumbersTest {
    private static final int CASES = 100_000;

    @Test
    void fastParserEqualsDoubleParseDouble() throws IOException {
        Random random = new Random(20261202);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < CASES; i++) {
            double d = Double.longBitsToDouble(random.nextLong());
            float f = Float.intBitsToFloat(random.nextInt());
            if (Double.isFinite(d)) {
                texts.add(Double.toString(d));
            }
            if (Float.isFinite(f)) {
                texts.add(Float.toString(f));
                texts.add(Double.toString(f));
                texts.addAll(
                        halfwayCases(
                                new BigDecimal((double) f),
                                new BigDecimal((double) Math.nextUp(f))));
            }
            if (Double.isFinite(d) && Double.isFinite(Math.nextUp(d))) {
                texts.addAll(halfwayCases(new BigDecimal(d), new BigDecimal(Math.nextUp(d))));
            }
            texts.add(randomDigits(random));
        }
        texts.addAll(
                List.of(
                        "0",
                        "-0",
                        "0.0",
                        "-0.0",
                        "1e-400",
                        "-1e-400",
                        "4.9e-324",
                        "2.4703282292062328e-324",
                        "2.4703282292062327e-324",
                        "1.7976931348623157e308",
                        "1.7976931348623158e308",
                        "1e309",
                        "3.4028235e38",
                        "1.4e-45",
                        "7.006492321624085e-46",
                        "9007199254740993",
                        "0.1",
                        "123456789012345678901234567890"));
        for (String text : texts) {
            assertEquals(
                    Double.doubleToRawLongBits(Double.parseDouble(text)),
                    Double.doubleToRawLongBits(NumberInput.parseDouble(text, true)),
                    text);
        }
        // And through the decoder's own parser, as a stats record reads them.
        for (String text : texts.subList(0, 20_000)) {
            try (JsonParser p = JsonBatchDecoder.FACTORY.createParser("[" + text + "]")) {
                p.nextToken();
                JsonToken t = p.nextToken();
                double read =
                        t == JsonToken.VALUE_NUMBER_INT ? p.getValueAsDouble() : p.getDoubleValue();
                assertEquals(
                        Double.doubleToRawLongBits(Double.parseDouble(text)),
                        Double.doubleToRawLongBits(read),
                        text);
            }
        }
    }

    /** The exact midpoint of two neighbours, and its last digit one up and one down. */
    private static List<String> halfwayCases(BigDecimal low, BigDecimal high) {
        BigDecimal mid = low.add(high).divide(BigDecimal.valueOf(2));
        BigDecimal ulp = mid.ulp();
        return List.of(
                mid.toString(),
                mid.add(ulp).toString(),
                mid.subtract(ulp).toString(),
                mid.negate().toString());
    }

    /** Up to 30 random digits (the first not 0) with a random decimal point and exponent. */
    private static String randomDigits(Random random) {
        StringBuilder s = new StringBuilder();
        if (random.nextBoolean()) {
            s.append('-');
        }
        int digits = 1 + random.nextInt(30);
        int point = random.nextInt(digits + 1);
        for (int i = 0; i < digits; i++) {
            if (i == point && i > 0) {
                s.append('.');
            }
            // JSON allows no leading zero: the first digit is 1-9.
            s.append((char) (i == 0 ? '1' + random.nextInt(9) : '0' + random.nextInt(10)));
        }
        if (random.nextBoolean()) {
            s.append('e').append(random.nextInt(700) - 350);
        }
        return s.toString();
    }
}

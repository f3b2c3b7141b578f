package io.qparams.observers;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Ranges and refusals of OBSERVER-SPEC rules 7-9; the golden replay checks them against torch too.
 */
class ObserverSpecTest {

    private static ObserverSpec.Builder minMax() {
        return ObserverSpec.builder(ObserverKind.MinMaxObserver);
    }

    @Test
    void defaultRangesFollowTheDtype() {
        assertRange(0, 255, minMax().dtype(QuantDtype.quint8));
        assertRange(0, 127, minMax().dtype(QuantDtype.quint8).reduceRange(true));
        assertRange(-128, 127, minMax().dtype(QuantDtype.qint8));
        assertRange(-64, 63, minMax().dtype(QuantDtype.qint8).reduceRange(true));
        assertRange(
                Integer.MIN_VALUE,
                Integer.MAX_VALUE,
                minMax().dtype(QuantDtype.qint32).reduceRange(true));
        assertRange(0, 15, minMax().dtype(QuantDtype.quint4x2));
        assertRange(0, 255, minMax().dtype(QuantDtype.uint8));
        assertRange(-128, 127, minMax().dtype(QuantDtype.int8));
        assertRange(-32768, 32767, minMax().dtype(QuantDtype.int16));
        assertRange(0, 65535, minMax().dtype(QuantDtype.uint16));
        assertRange(Integer.MIN_VALUE, Integer.MAX_VALUE, minMax().dtype(QuantDtype.int32));
    }

    @Test
    void customRangeNeedsBothBoundsAndIsFloorHalvedByReduceRange() {
        assertRange(0, 255, minMax().quantMin(-5));
        assertRange(-5, 10, minMax().quantMin(-5).quantMax(10));
        assertRange(-3, 5, minMax().quantMin(-5).quantMax(10).reduceRange(true));
    }

    @Test
    void refusalsCarryTorchsReason() {
        assertRefused(
                "Used-specified quantization range must include 0.",
                minMax().quantMin(1).quantMax(10));
        assertRefused(
                "qmin must be strictly less than qmax for user-specified quantization range.",
                minMax().quantMin(0).quantMax(0));
        assertRefused(
                "quantization range should be positive and not exceed the maximum bit range"
                        + " (=256).",
                minMax().dtype(QuantDtype.qint8).quantMin(-200).quantMax(100));
        assertRefused(
                "quantization range should be positive and not exceed the maximum bit range"
                        + " (=4294967296).",
                minMax().dtype(QuantDtype.qint32)
                        .quantMin(Integer.MIN_VALUE)
                        .quantMax(Integer.MAX_VALUE));
        assertRefused(
                "Cannot reduce range for symmetric quantization for quint8",
                minMax().qscheme(QScheme.per_tensor_symmetric).reduceRange(true));
        assertRefused(
                "MinMaxObserver's qscheme only support torch.per_tensor_symmetric and"
                        + " torch.per_tensor_affine.",
                minMax().qscheme(QScheme.per_channel_affine));
        assertRefused(
                "PerChannelMinMaxObserver's qscheme only support torch.per_channel_symmetric, "
                        + "torch.per_channel_affine and torch.per_channel_affine_float_qparams.",
                ObserverSpec.builder(ObserverKind.PerChannelMinMaxObserver)
                        .qscheme(QScheme.per_tensor_affine));
    }

    @Test
    void averagingConstantIsNotValidatedAsInTorch() {
        ObserverSpec spec =
                ObserverSpec.builder(ObserverKind.MovingAverageMinMaxObserver)
                        .averagingConstant(2.5)
                        .build();
        assertEquals(2.5f, spec.averagingConstantFloat());
    }

    @Test
    void unknownNamesAreRefused() {
        assertThrows(InvalidObserverConfigException.class, () -> QuantDtype.parse("float16"));
        assertThrows(InvalidObserverConfigException.class, () -> QScheme.parse("per_tensor"));
        assertThrows(
                InvalidObserverConfigException.class,
                () -> ObserverKind.parse("HistogramObserver"));
        assertEquals(QuantDtype.qint8, QuantDtype.parse("torch.qint8"));
    }

    private static void assertRange(int quantMin, int quantMax, ObserverSpec.Builder builder) {
        ObserverSpec spec = builder.build();
        assertEquals(quantMin, spec.quantMin(), "quant_min of " + spec);
        assertEquals(quantMax, spec.quantMax(), "quant_max of " + spec);
    }

    private static void assertRefused(String reason, ObserverSpec.Builder builder) {
        InvalidObserverConfigException e =
                assertThrows(InvalidObserverConfigException.class, builder::build);
        assertEquals(reason, e.getMessage());
    }
}

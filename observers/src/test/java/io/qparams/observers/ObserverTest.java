package io.qparams.observers;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The facts OBSERVER-SPEC.md records from real torch, one test each; GoldenReplayTest checks the
 * same code against hundreds of torch runs.
 */
class ObserverTest {

    private static Observer observer(ObserverSpec.Builder builder) {
        return new Observer(builder.build());
    }

    private static ObserverState observe(Observer observer, float... values)
            throws InvalidBatchException {
        ObserverState state = observer.initialState();
        BatchReducer reducer =
                BatchReducer.forSpec(
                        observer.spec(),
                        new long[] {values.length},
                        false,
                        NonFinitePolicy.PROPAGATE);
        reducer.accept(values, 0, values.length);
        observer.update(state, reducer.finish());
        return state;
    }

    @Test
    void movingAverageIsOldPlusCTimesDifferenceInFloat32() throws InvalidBatchException {
        Observer observer =
                observer(
                        ObserverSpec.builder(ObserverKind.MovingAverageMinMaxObserver)
                                .averagingConstant(0.01));
        ObserverState state = observer.initialState();
        observer.update(state, BatchMinMax.perTensor(-1.3f, 2.7f));
        observer.update(state, BatchMinMax.perTensor(-0.4f, 5.1f));
        float c = 0.01f;
        assertEquals(
                Float.floatToIntBits(-1.3f + c * (-0.4f - -1.3f)),
                Float.floatToIntBits(state.minVal(0)));
        assertEquals(
                Float.floatToIntBits(2.7f + c * (5.1f - 2.7f)),
                Float.floatToIntBits(state.maxVal(0)));
        assertEquals(2, state.batches());
    }

    @Test
    void averagingConstantOneIsNotTakeTheCurrentBatch() throws InvalidBatchException {
        Observer observer =
                observer(
                        ObserverSpec.builder(ObserverKind.MovingAverageMinMaxObserver)
                                .averagingConstant(1.0));
        ObserverState state = observer.initialState();
        observer.update(state, BatchMinMax.perTensor(0f, 1e8f));
        observer.update(state, BatchMinMax.perTensor(0f, 1f));
        assertEquals(0f, state.maxVal(0));
    }

    @Test
    void halfToEvenRoundingIsVisibleInTheZeroPoint() throws InvalidBatchException {
        Observer observer = observer(ObserverSpec.builder(ObserverKind.MinMaxObserver));
        QParams q = observer.calculateQParams(observe(observer, -1f, 101f));
        assertEquals(2, q.zeroPoint(0));
    }

    @Test
    void constantTensorsDoNotGiveScaleOne() throws InvalidBatchException {
        Observer observer = observer(ObserverSpec.builder(ObserverKind.MinMaxObserver));
        QParams positive = observer.calculateQParams(observe(observer, 3f, 3f));
        assertEquals(3f / 255f, positive.scale(0));
        assertEquals(0, positive.zeroPoint(0));
        assertEquals(255, observer.calculateQParams(observe(observer, -3f)).zeroPoint(0));
        QParams zero = observer.calculateQParams(observe(observer, 0f));
        assertEquals((float) ObserverSpec.DEFAULT_EPS, zero.scale(0));
        assertEquals(0, zero.zeroPoint(0));
    }

    @Test
    void beforeAnyDataQParamsAreTorchsDefaults() {
        Observer observer = observer(ObserverSpec.builder(ObserverKind.PerChannelMinMaxObserver));
        QParams q = observer.calculateQParams(observer.initialState());
        assertEquals(1, q.size());
        assertEquals(1.0f, q.scale(0));
        assertEquals(0, q.zeroPoint(0));
    }

    @Test
    void nanPoisonsTheStateAndMakesQParamsInvalid() throws InvalidBatchException {
        Observer observer = observer(ObserverSpec.builder(ObserverKind.MinMaxObserver));
        ObserverState state = observe(observer, 1f, Float.NaN, 2f);
        assertTrue(Float.isNaN(state.minVal(0)) && Float.isNaN(state.maxVal(0)));
        observer.update(state, BatchMinMax.perTensor(-1f, 1f));
        assertTrue(Float.isNaN(state.minVal(0)));
        assertFalse(observer.calculateQParams(state).isValid());
        observer.reset(state);
        assertEquals(0, state.batches());
        assertEquals(Float.POSITIVE_INFINITY, state.minVal(0));
    }

    @Test
    void infinityBecomesNanInTheMovingAverage() throws InvalidBatchException {
        Observer observer =
                observer(ObserverSpec.builder(ObserverKind.MovingAverageMinMaxObserver));
        ObserverState state = observer.initialState();
        observer.update(state, BatchMinMax.perTensor(Float.NEGATIVE_INFINITY, 1f));
        observer.update(state, BatchMinMax.perTensor(0f, 1f));
        assertTrue(Float.isNaN(state.minVal(0)));
    }

    @Test
    void hugeRangeOverflowsToInfiniteScaleAndX86ZeroPoint() throws InvalidBatchException {
        Observer observer = observer(ObserverSpec.builder(ObserverKind.MinMaxObserver));
        QParams q = observer.calculateQParams(observe(observer, -3e38f, 3e38f));
        assertEquals(Float.POSITIVE_INFINITY, q.scale(0));
        // min_neg / inf = -0 -> 0: zero point quant_min - 0.
        assertEquals(0, q.zeroPoint(0));
    }

    @Test
    void x86FloatToIntGivesIntMinForNanAndOutOfRange() {
        assertEquals(Integer.MIN_VALUE, TorchMath.roundToInt32(Float.NaN));
        assertEquals(Integer.MIN_VALUE, TorchMath.roundToInt32(3e9f));
        assertEquals(Integer.MIN_VALUE, TorchMath.roundToInt32(Float.NEGATIVE_INFINITY));
        assertEquals(2, TorchMath.roundToInt32(2.5f));
        assertEquals(-2, TorchMath.roundToInt32(-2.5f));
    }

    @Test
    void symmetricZeroPoints() throws InvalidBatchException {
        ObserverSpec.Builder symmetric =
                ObserverSpec.builder(ObserverKind.MinMaxObserver)
                        .qscheme(QScheme.per_tensor_symmetric);
        assertEquals(128, symmetricZeroPoint(symmetric.dtype(QuantDtype.quint8)));
        assertEquals(
                2,
                symmetricZeroPoint(symmetric.dtype(QuantDtype.quint8).quantMin(-5).quantMax(10)));
        assertEquals(
                0,
                symmetricZeroPoint(
                        symmetric.dtype(QuantDtype.qint8).quantMin(null).quantMax(null)));
        assertEquals(32768, symmetricZeroPoint(symmetric.dtype(QuantDtype.uint16)));
    }

    private static int symmetricZeroPoint(ObserverSpec.Builder builder)
            throws InvalidBatchException {
        Observer observer = observer(builder);
        return observer.calculateQParams(observe(observer, -1f, 2f)).zeroPoint(0);
    }

    @Test
    void perChannelRefusesAChangedChannelCountAndKeepsTheState() throws InvalidBatchException {
        Observer observer = observer(ObserverSpec.builder(ObserverKind.PerChannelMinMaxObserver));
        ObserverState state = observer.initialState();
        observer.update(state, BatchMinMax.perChannel(new float[] {0f, 1f}, new float[] {2f, 3f}));
        ObserverState before = state.copy();
        assertThrows(
                InvalidBatchException.class,
                () ->
                        observer.update(
                                state, BatchMinMax.perChannel(new float[] {0f}, new float[] {1f})));
        assertThrows(
                InvalidBatchException.class,
                () -> observer.update(state, BatchMinMax.perTensor(0f, 1f)));
        assertEquals(before, state);
    }

    @Test
    void perTensorRefusesAPerChannelStateRestoredUnderAChangedRule() {
        // A savepoint taken while the tensor's rule was per-channel, restored with a per-tensor
        // rule.
        Observer observer =
                observer(ObserverSpec.builder(ObserverKind.MovingAverageMinMaxObserver));
        for (ObserverState state :
                new ObserverState[] {
                    ObserverState.initial(true),
                    new ObserverState(new float[] {0f, 1f}, new float[] {2f, 3f}, 4)
                }) {
            ObserverState before = state.copy();
            InvalidBatchException e =
                    assertThrows(
                            InvalidBatchException.class,
                            () -> observer.update(state, BatchMinMax.perTensor(0f, 1f)));
            assertTrue(e.getMessage().contains("reset the observer"), e.getMessage());
            assertEquals(before, state);
        }
    }

    @Test
    void floatQParamsHaveFloatZeroPointsFromTheRawRange() throws InvalidBatchException {
        Observer observer =
                observer(
                        ObserverSpec.builder(ObserverKind.PerChannelMinMaxObserver)
                                .qscheme(QScheme.per_channel_affine_float_qparams));
        ObserverState state = observer.initialState();
        observer.update(state, BatchMinMax.perChannel(new float[] {1f, -2f}, new float[] {3f, 2f}));
        QParams q = observer.calculateQParams(state);
        assertTrue(q.hasFloatZeroPoint());
        float scale0 = (3f - 1f) / 255f;
        assertEquals(scale0, q.scale(0));
        assertEquals(-1f / scale0, q.zeroPointFloat(0));
    }
}

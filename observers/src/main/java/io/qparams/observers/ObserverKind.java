package io.qparams.observers;

/** The four torch observers qparams reproduces; the enum names are torch's class names. */
public enum ObserverKind {
    MinMaxObserver(false, false),
    MovingAverageMinMaxObserver(false, true),
    PerChannelMinMaxObserver(true, false),
    MovingAveragePerChannelMinMaxObserver(true, true);

    private final boolean perChannel;
    private final boolean movingAverage;

    ObserverKind(boolean perChannel, boolean movingAverage) {
        this.perChannel = perChannel;
        this.movingAverage = movingAverage;
    }

    public boolean isPerChannel() {
        return perChannel;
    }

    public boolean isMovingAverage() {
        return movingAverage;
    }

    /** torch's default qscheme for the observer's constructor. */
    public QScheme defaultQScheme() {
        return perChannel ? QScheme.per_channel_affine : QScheme.per_tensor_affine;
    }

    public static ObserverKind parse(String name) {
        for (ObserverKind kind : values()) {
            if (kind.name().equals(name)) {
                return kind;
            }
        }
        throw new InvalidObserverConfigException(
                "unknown observer '"
                        + name
                        + "': expected one of "
                        + "MovingAverageMinMaxObserver, MinMaxObserver, PerChannelMinMaxObserver, "
                        + "MovingAveragePerChannelMinMaxObserver");
    }
}

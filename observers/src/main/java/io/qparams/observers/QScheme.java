package io.qparams.observers;

/** torch's quantization schemes, with the names torch gives them. */
public enum QScheme {
    per_tensor_affine,
    per_tensor_symmetric,
    per_channel_affine,
    per_channel_symmetric,
    per_channel_affine_float_qparams;

    public boolean isPerChannel() {
        return this == per_channel_affine
                || this == per_channel_symmetric
                || this == per_channel_affine_float_qparams;
    }

    public boolean isSymmetric() {
        return this == per_tensor_symmetric || this == per_channel_symmetric;
    }

    /**
     * Parses a qscheme as written in a config ({@code per_tensor_affine} or {@code
     * torch.per_tensor_affine}).
     */
    public static QScheme parse(String name) {
        String bare = name.startsWith("torch.") ? name.substring("torch.".length()) : name;
        for (QScheme qscheme : values()) {
            if (qscheme.name().equals(bare)) {
                return qscheme;
            }
        }
        throw new InvalidObserverConfigException(
                "qscheme '"
                        + name
                        + "': Default Observer only works for per_tensor_affine,"
                        + " per_tensor_symmetric, per_channel_affine, per_channel_symmetric and"
                        + " per_channel_float_qparams quantization scheme");
    }
}

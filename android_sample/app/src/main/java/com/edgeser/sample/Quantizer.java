package com.edgeser.sample;

/**
 * Affine int8 quantization of one tensor, exactly as the edge-ser manifest states it:
 * {@code q = clamp(round_half_away_from_zero(x / scale) + zero_point, -128, 127)} and
 * {@code x = (q - zero_point) * scale}. {@code x / scale} is evaluated in float32, the dtype of
 * the tensors. Plain Java, no Android dependencies.
 */
public final class Quantizer {
    private final float scale;
    private final int zeroPoint;

    /**
     * @param scale the tensor's quantization scale (> 0), from manifest.json
     * @param zeroPoint the tensor's zero point in [-128, 127], from manifest.json
     */
    public Quantizer(float scale, int zeroPoint) {
        if (!(scale > 0.0f) || Float.isInfinite(scale)) {
            throw new IllegalArgumentException("scale must be finite and > 0, got " + scale);
        }
        if (zeroPoint < Byte.MIN_VALUE || zeroPoint > Byte.MAX_VALUE) {
            throw new IllegalArgumentException("zero point must be an int8, got " + zeroPoint);
        }
        this.scale = scale;
        this.zeroPoint = zeroPoint;
    }

    /** Quantizes one value to int8. */
    public byte quantize(float x) {
        float scaled = x / scale;
        // Round half away from zero; the + 0.5 is done in double so it cannot round up itself.
        double magnitude = Math.floor(Math.abs((double) scaled) + 0.5);
        double rounded = scaled < 0.0f ? -magnitude : magnitude;
        double q = rounded + zeroPoint;
        return (byte) Math.max(Byte.MIN_VALUE, Math.min(Byte.MAX_VALUE, q));
    }

    /** Dequantizes one int8 value. */
    public float dequantize(byte q) {
        return (q - zeroPoint) * scale;
    }
}

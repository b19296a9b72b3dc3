package com.edgeser.sample

import android.content.res.AssetManager
import org.json.JSONObject
import org.tensorflow.lite.Interpreter
import java.nio.ByteBuffer
import java.nio.ByteOrder

/**
 * One analysis window (15600 samples at 16 kHz) in, one probability per label out:
 * Java frontend -> quantize -> LiteRT interpreter -> dequantize.
 *
 * Everything model specific comes from the assets written by `edge-ser export`: the model,
 * `labels.txt` (label order of the model output) and `manifest.json` (tensor shapes, int8 scales
 * and zero points, preprocessing constants). With [WAVEFORM_MODEL] the frontend runs inside the
 * model and the raw window is fed as is.
 *
 * Not thread-safe: call [classify] from one thread.
 */
class EmotionClassifier(assets: AssetManager, private val modelFile: String) : AutoCloseable {
    /** Labels in model output order, from labels.txt. */
    val labels: List<String>

    private val takesWaveform = modelFile == WAVEFORM_MODEL
    private val frontend = LogMelFrontend()
    private val interpreter: Interpreter
    private val input: TensorSpec
    private val output: TensorSpec
    private val inputBuffer: ByteBuffer
    private val outputBuffer: ByteBuffer

    init {
        val manifest = JSONObject(assets.readText(MANIFEST_FILE))
        checkPreprocessing(manifest.getJSONObject("preprocessing"))
        labels = assets.readText(LABELS_FILE).lines().map { it.trim() }.filter { it.isNotEmpty() }
        val manifestLabels = manifest.getJSONArray("labels").let { a ->
            List(a.length()) { a.getString(it) }
        }
        check(labels == manifestLabels) {
            "$LABELS_FILE $labels disagrees with $MANIFEST_FILE $manifestLabels"
        }

        val artifacts = manifest.getJSONObject("artifacts")
        check(artifacts.has(modelFile)) { "$MANIFEST_FILE has no entry for $modelFile" }
        val artifact = artifacts.getJSONObject(modelFile)
        input = TensorSpec(artifact.getJSONObject("input"))
        output = TensorSpec(artifact.getJSONObject("output"))
        val expectedName = if (takesWaveform) WAVEFORM_INPUT_NAME else LOG_MEL_INPUT_NAME
        val expectedShape = if (takesWaveform) WAVEFORM_INPUT_SHAPE else LOG_MEL_INPUT_SHAPE
        check(input.name == expectedName) {
            "$modelFile input is '${input.name}', expected '$expectedName'"
        }
        check(input.shape.contentEquals(expectedShape)) {
            "$modelFile input shape ${input.shape.contentToString()}, " +
                "expected ${expectedShape.contentToString()}"
        }
        check(output.elements == labels.size) {
            "$modelFile gives ${output.elements} scores for ${labels.size} labels"
        }

        val options = Interpreter.Options().setNumThreads(2)
        interpreter = Interpreter(assets.readDirect(modelFile), options)
        inputBuffer = input.allocate()
        outputBuffer = output.allocate()
    }

    /**
     * Probabilities for one window.
     *
     * @param window [LogMelFrontend.MIN_SAMPLES] mono float samples at 16 kHz, oldest first
     * @return one probability per entry of [labels]
     */
    fun classify(window: FloatArray): FloatArray {
        require(window.size == LogMelFrontend.MIN_SAMPLES) {
            "window has ${window.size} samples, expected ${LogMelFrontend.MIN_SAMPLES}"
        }
        inputBuffer.rewind()
        if (takesWaveform) {
            window.forEach { input.write(inputBuffer, it) }
        } else {
            // A window of MIN_SAMPLES samples is exactly one patch, (frames, bands) row-major,
            // which is the NHWC order of the (1, frames, bands, 1) input.
            val patch = frontend.waveformToPatches(window)[0]
            for (frame in patch) frame.forEach { input.write(inputBuffer, it) }
        }
        inputBuffer.rewind()
        outputBuffer.rewind()
        interpreter.run(inputBuffer, outputBuffer)
        outputBuffer.rewind()
        return FloatArray(output.elements) { output.read(outputBuffer) }
    }

    /**
     * The window's levels for [SilenceRule] (mean log-mel, ends and peak in dB), from its
     * log-mel patch by the Java frontend (also for the waveform-in model, which has its frontend
     * inside).
     */
    fun levels(window: FloatArray): SilenceRule.Levels {
        val patch = frontend.waveformToPatches(window)[0]
        return SilenceRule.levels(patch.flatMap { it.asIterable() }.toFloatArray())
    }

    override fun close() = interpreter.close()

    /** One tensor of manifest.json `artifacts[model]["input" | "output"]`. */
    private class TensorSpec(json: JSONObject) {
        val name: String = json.optString("name")
        val shape: IntArray = json.getJSONArray("shape").let { a ->
            IntArray(a.length()) { a.getInt(it) }
        }
        val elements = shape.fold(1) { product, dim -> product * dim }
        private val quantizer: Quantizer? = when (val dtype = json.getString("dtype")) {
            "int8" -> Quantizer(json.getDouble("scale").toFloat(), json.getInt("zero_point"))
            "float32" -> null
            else -> error("unsupported tensor dtype '$dtype'")
        }

        fun allocate(): ByteBuffer =
            ByteBuffer.allocateDirect(elements * (if (quantizer != null) 1 else 4))
                .order(ByteOrder.nativeOrder())

        fun write(buffer: ByteBuffer, value: Float) {
            if (quantizer != null) buffer.put(quantizer.quantize(value)) else buffer.putFloat(value)
        }

        fun read(buffer: ByteBuffer): Float =
            if (quantizer != null) quantizer.dequantize(buffer.get()) else buffer.getFloat()
    }

    companion object {
        /** Log-mel-in int8 model (the Java frontend runs first). */
        const val LOG_MEL_MODEL = "emotion_int8.tflite"
        /** Waveform-in int8 model (frontend inside the model). */
        const val WAVEFORM_MODEL = "emotion_waveform_int8.tflite"
        const val LABELS_FILE = "labels.txt"
        const val MANIFEST_FILE = "manifest.json"
        const val LOG_MEL_INPUT_NAME = "log_mel"
        const val WAVEFORM_INPUT_NAME = "waveform"

        /** (batch, frames, mel bands, channel). */
        val LOG_MEL_INPUT_SHAPE =
            intArrayOf(1, LogMelFrontend.PATCH_FRAMES, LogMelFrontend.NUM_MEL_BANDS, 1)
        /** (batch, samples): one window. */
        val WAVEFORM_INPUT_SHAPE = intArrayOf(1, LogMelFrontend.MIN_SAMPLES)

        /** manifest.json `preprocessing` keys and the frontend constants they must equal. */
        private val FRONTEND_CONSTANTS: Map<String, Double> = mapOf(
            "sample_rate" to LogMelFrontend.SAMPLE_RATE.toDouble(),
            "window_length_samples" to LogMelFrontend.WINDOW_LENGTH_SAMPLES.toDouble(),
            "hop_length_samples" to LogMelFrontend.HOP_LENGTH_SAMPLES.toDouble(),
            "fft_length" to LogMelFrontend.FFT_LENGTH.toDouble(),
            "num_mel_bands" to LogMelFrontend.NUM_MEL_BANDS.toDouble(),
            "mel_min_hz" to LogMelFrontend.MEL_MIN_HZ,
            "mel_max_hz" to LogMelFrontend.MEL_MAX_HZ,
            "log_offset" to LogMelFrontend.LOG_OFFSET.toDouble(),
            "patch_frames" to LogMelFrontend.PATCH_FRAMES.toDouble(),
            "patch_hop_frames" to LogMelFrontend.PATCH_HOP_FRAMES.toDouble(),
            "min_samples" to LogMelFrontend.MIN_SAMPLES.toDouble(),
        )

        /** Fails when the exported model expects different preprocessing than this frontend. */
        private fun checkPreprocessing(preprocessing: JSONObject) {
            for ((key, value) in FRONTEND_CONSTANTS) {
                val exported = preprocessing.getDouble(key)
                // Compared in float32: LOG_OFFSET is a float constant.
                check(exported.toFloat() == value.toFloat()) {
                    "$MANIFEST_FILE preprocessing.$key = $exported but the frontend uses $value"
                }
            }
        }

        private fun AssetManager.readText(name: String): String =
            open(name).use { it.readBytes().toString(Charsets.UTF_8) }

        private fun AssetManager.readDirect(name: String): ByteBuffer {
            val bytes = open(name).use { it.readBytes() }
            return ByteBuffer.allocateDirect(bytes.size).order(ByteOrder.nativeOrder()).apply {
                put(bytes)
                rewind()
            }
        }
    }
}

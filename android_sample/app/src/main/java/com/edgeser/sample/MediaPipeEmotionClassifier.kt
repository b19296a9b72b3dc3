package com.edgeser.sample

import android.content.Context
import com.google.mediapipe.tasks.audio.audioclassifier.AudioClassifier
import com.google.mediapipe.tasks.audio.core.RunningMode
import com.google.mediapipe.tasks.components.containers.AudioData
import com.google.mediapipe.tasks.core.BaseOptions

/**
 * The MediaPipe Tasks path: MediaPipe's AudioClassifier runs [MEDIAPIPE_MODEL] from the assets.
 * The model carries its labels, sample rate and channel count in its TFLite Model Metadata and
 * computes the log-mel inside, so this class needs no frontend, labels file or manifest.
 *
 * Feed it the same windows as [EmotionClassifier] (15600 samples at 16 kHz from
 * [SlidingWindow], every 0.48 s) and smooth with [Smoother]: MediaPipe would otherwise cut a
 * recording into back-to-back windows, with no overlap. The silence rule still reads each
 * window's log-mel: compute [SilenceRule.levels] with a [LogMelFrontend] on the same window and
 * pass them to [SilenceRule.Live]. Not thread-safe.
 */
class MediaPipeEmotionClassifier(context: Context) : AutoCloseable {
    private val classifier: AudioClassifier = AudioClassifier.createFromOptions(
        context,
        AudioClassifier.AudioClassifierOptions.builder()
            .setBaseOptions(BaseOptions.builder().setModelAssetPath(MEDIAPIPE_MODEL).build())
            .setRunningMode(RunningMode.AUDIO_CLIPS)
            .build(),
    )
    private val format = AudioData.AudioDataFormat.builder()
        .setNumOfChannels(1)
        .setSampleRate(LogMelFrontend.SAMPLE_RATE.toFloat())
        .build()

    /** Labels in model output order, read by MediaPipe from the model's metadata. */
    var labels: List<String> = emptyList()
        private set

    /**
     * Probabilities for one window, in [labels] order.
     *
     * @param window [LogMelFrontend.MIN_SAMPLES] mono float samples at 16 kHz, oldest first
     */
    fun classify(window: FloatArray): FloatArray {
        require(window.size == LogMelFrontend.MIN_SAMPLES) {
            "window has ${window.size} samples, expected ${LogMelFrontend.MIN_SAMPLES}"
        }
        val audio = AudioData.create(format, window.size)
        audio.load(window)
        val result = classifier.classify(audio).classificationResults().first()
        // Categories come sorted by score; their index is the model's output position.
        val categories = result.classifications().first().categories().sortedBy { it.index() }
        labels = categories.map { it.categoryName() }
        return FloatArray(categories.size) { categories[it].score() }
    }

    override fun close() = classifier.close()

    companion object {
        /** The waveform-in int8 export, with TFLite Model Metadata. */
        const val MEDIAPIPE_MODEL = "emotion_waveform_int8.tflite"
    }
}

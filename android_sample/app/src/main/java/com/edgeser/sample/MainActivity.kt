package com.edgeser.sample

import android.Manifest
import android.annotation.SuppressLint
import android.app.Activity
import android.content.pm.PackageManager
import android.media.AudioFormat
import android.media.AudioRecord
import android.media.MediaRecorder
import android.os.Bundle
import android.util.TypedValue
import android.view.ViewGroup.LayoutParams.MATCH_PARENT
import android.view.ViewGroup.LayoutParams.WRAP_CONTENT
import android.widget.Button
import android.widget.LinearLayout
import android.widget.ProgressBar
import android.widget.TextView
import java.util.Locale

/**
 * Live speech emotion recognition from the microphone.
 *
 * A capture thread reads 16 kHz mono float audio with [AudioRecord]; a [SlidingWindow] hands out
 * one 15600-sample window every 7680 samples (0.48 s); each window goes through
 * [EmotionClassifier] and the [Smoother] averages the last [SMOOTHING_WINDOWS] results, which the
 * UI shows as the current emotion and one bar per label.
 */
class MainActivity : Activity() {
    private var classifier: EmotionClassifier? = null
    private lateinit var emotionView: TextView
    private lateinit var toggleButton: Button
    private val bars = mutableListOf<ProgressBar>()

    @Volatile
    private var recording = false
    private var captureThread: Thread? = null

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val root = LinearLayout(this).apply {
            orientation = LinearLayout.VERTICAL
            setPadding(48, 48, 48, 48)
        }
        emotionView = TextView(this).apply { setTextSize(TypedValue.COMPLEX_UNIT_SP, 32f) }
        toggleButton = Button(this).apply {
            setText(R.string.start)
            setOnClickListener { onToggle() }
        }
        root.addView(emotionView)
        root.addView(toggleButton)
        setContentView(root)

        val modelFile = if (USE_WAVEFORM_MODEL) {
            EmotionClassifier.WAVEFORM_MODEL
        } else {
            EmotionClassifier.LOG_MEL_MODEL
        }
        val loaded = try {
            EmotionClassifier(assets, modelFile)
        } catch (e: Exception) {
            // Missing assets or a manifest that does not match this app: say so and stay idle.
            emotionView.text = getString(R.string.model_error, e.message)
            toggleButton.isEnabled = false
            return
        }
        classifier = loaded
        emotionView.setText(R.string.idle)
        for (label in loaded.labels) {
            val row = LinearLayout(this).apply { orientation = LinearLayout.HORIZONTAL }
            val name = TextView(this).apply { text = label }
            row.addView(name, LinearLayout.LayoutParams(0, WRAP_CONTENT, 1f))
            val bar = ProgressBar(this, null, android.R.attr.progressBarStyleHorizontal).apply {
                max = BAR_STEPS
            }
            row.addView(bar, LinearLayout.LayoutParams(0, WRAP_CONTENT, 3f))
            root.addView(row, LinearLayout.LayoutParams(MATCH_PARENT, WRAP_CONTENT))
            bars.add(bar)
        }
    }

    override fun onStop() {
        super.onStop()
        stopCapture()
    }

    override fun onDestroy() {
        super.onDestroy()
        classifier?.close()
    }

    private fun onToggle() {
        when {
            recording -> stopCapture()
            checkSelfPermission(Manifest.permission.RECORD_AUDIO) ==
                PackageManager.PERMISSION_GRANTED -> startCapture()
            else -> requestPermissions(
                arrayOf(Manifest.permission.RECORD_AUDIO),
                REQUEST_RECORD_AUDIO,
            )
        }
    }

    override fun onRequestPermissionsResult(
        requestCode: Int,
        permissions: Array<out String>,
        grantResults: IntArray,
    ) {
        super.onRequestPermissionsResult(requestCode, permissions, grantResults)
        if (requestCode != REQUEST_RECORD_AUDIO) return
        if (grantResults.firstOrNull() == PackageManager.PERMISSION_GRANTED) {
            startCapture()
        } else {
            emotionView.setText(R.string.permission_denied)
        }
    }

    private fun startCapture() {
        val model = classifier ?: return
        recording = true
        toggleButton.setText(R.string.stop)
        captureThread = Thread({ captureLoop(model) }, "edge-ser-capture").apply { start() }
    }

    private fun stopCapture() {
        recording = false
        captureThread?.join()
        captureThread = null
        toggleButton.setText(R.string.start)
    }

    /** Runs on the capture thread until [recording] is cleared. */
    @SuppressLint("MissingPermission") // granted before startCapture() is called
    private fun captureLoop(model: EmotionClassifier) {
        val sampleRate = LogMelFrontend.SAMPLE_RATE
        val channel = AudioFormat.CHANNEL_IN_MONO
        val encoding = AudioFormat.ENCODING_PCM_FLOAT
        val chunk = FloatArray(LogMelFrontend.PATCH_HOP_SAMPLES / 4) // 0.12 s per read
        val bufferBytes = maxOf(
            AudioRecord.getMinBufferSize(sampleRate, channel, encoding),
            4 * Float.SIZE_BYTES * chunk.size,
        )
        // VOICE_RECOGNITION asks for audio without automatic gain control or noise suppression,
        // closest to the recordings the model was trained on.
        val record = AudioRecord(
            MediaRecorder.AudioSource.VOICE_RECOGNITION, sampleRate, channel, encoding, bufferBytes,
        )
        if (record.state != AudioRecord.STATE_INITIALIZED) {
            record.release()
            runOnUiThread { emotionView.setText(R.string.microphone_error) }
            return
        }
        val window = SlidingWindow()
        val smoother = Smoother(SMOOTHING_WINDOWS)
        val silence = SilenceRule.Live()
        record.startRecording()
        try {
            while (recording) {
                val read = record.read(chunk, 0, chunk.size, AudioRecord.READ_BLOCKING)
                if (read < 0) {
                    runOnUiThread { emotionView.setText(R.string.microphone_error) }
                    break
                }
                window.push(chunk, read) { samples ->
                    // Silent windows (SilenceRule: quiet against the loudest window so far,
                    // or an end far below the loudest frame so far) are shown as silence and
                    // not averaged.
                    if (silence.isSilent(model.levels(samples))) {
                        runOnUiThread { emotionView.setText(R.string.silence) }
                    } else {
                        val smoothed = smoother.add(model.classify(samples))
                        runOnUiThread { show(model.labels, smoothed) }
                    }
                }
            }
        } finally {
            record.stop()
            record.release()
        }
    }

    private fun show(labels: List<String>, probabilities: FloatArray) {
        val best = probabilities.indices.maxByOrNull { probabilities[it] } ?: return
        emotionView.text = String.format(Locale.ROOT, "%s  %.2f", labels[best], probabilities[best])
        probabilities.forEachIndexed { i, p -> bars[i].progress = (p * BAR_STEPS).toInt() }
    }

    companion object {
        /** true: run emotion_waveform_int8.tflite (frontend inside the model, no Java frontend). */
        const val USE_WAVEFORM_MODEL = false
        /** Windows averaged for the displayed result (0.48 s apart). */
        val SMOOTHING_WINDOWS = Smoother.DEFAULT_WINDOWS
        private const val REQUEST_RECORD_AUDIO = 1
        private const val BAR_STEPS = 1000
    }
}

import Foundation
import EdgeSER
import MediaPipeTasksAudio

/// The MediaPipe Tasks path: MediaPipe's `AudioClassifier` runs `emotion_waveform_int8.tflite`
/// from the app bundle. The model carries its labels, sample rate and channel count in its
/// TFLite Model Metadata and computes the log-mel inside, so this class needs no frontend,
/// labels file or manifest.
///
/// Feed it the windows `SlidingWindow` hands out (15600 samples at 16 kHz, every 0.48 s) and
/// smooth with `Smoother`, as with `EmotionClassifier`: on a whole recording MediaPipe would
/// cut back-to-back windows instead. The silence rule still reads each window's log-mel: compute
/// `SilenceRule.levels(_:)` with a `LogMelFrontend` on the same window and pass them to
/// `SilenceRule.Live`. Not thread-safe.
public final class MediaPipeEmotionClassifier {
    /// The waveform-in int8 export, with TFLite Model Metadata.
    public static let MEDIAPIPE_MODEL = "emotion_waveform_int8.tflite"

    /// Labels in model output order, read by MediaPipe from the model's metadata.
    public private(set) var labels: [String] = []

    private let classifier: AudioClassifier

    public init(bundle: Bundle = .main) throws {
        let name = (Self.MEDIAPIPE_MODEL as NSString).deletingPathExtension
        guard let path = bundle.path(forResource: name, ofType: "tflite") else {
            throw NSError(domain: "EdgeSER", code: 1, userInfo: [
                NSLocalizedDescriptionKey: "\(Self.MEDIAPIPE_MODEL) is not in the app bundle",
            ])
        }
        let options = AudioClassifierOptions()
        options.baseOptions.modelAssetPath = path
        options.runningMode = .audioClips
        classifier = try AudioClassifier(options: options)
    }

    /// Probabilities for one window of `LogMelFrontend.MIN_SAMPLES` mono samples at 16 kHz,
    /// in `labels` order.
    public func classify(_ window: [Float]) throws -> [Float] {
        precondition(window.count == LogMelFrontend.MIN_SAMPLES, "one window expected")
        let format = AudioDataFormat(channelCount: 1, sampleRate: Double(LogMelFrontend.SAMPLE_RATE))
        let audio = AudioData(format: format, sampleCount: UInt(window.count))
        try audio.load(floatBuffer: FloatBuffer(data: window), offset: 0, length: UInt(window.count))
        let result = try classifier.classify(audioClip: audio)
        // Categories come sorted by score; their index is the model's output position.
        let categories = result.classificationResults[0].classifications[0].categories
            .sorted { $0.index < $1.index }
        labels = categories.map { $0.categoryName ?? String($0.index) }
        return categories.map { $0.score }
    }
}

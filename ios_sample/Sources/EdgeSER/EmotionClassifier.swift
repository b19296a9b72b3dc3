import CoreML
import Foundation

/// Why a model or its assets cannot be used.
public enum ClassifierError: Error, CustomStringConvertible {
    case invalidAssets(String)

    public var description: String {
        switch self {
        case .invalidAssets(let reason): return reason
        }
    }
}

/// One analysis window (15600 samples at 16 kHz) in, one probability per label out:
/// Swift frontend -> Core ML classifier (float32 input, no quantization step on iOS).
///
/// Everything model specific comes from what `edge-ser export` writes: the model, `labels.txt`
/// (label order) and `manifest.json` (preprocessing constants, labels). With `takesWaveform`
/// the frontend runs inside `emotion_waveform.mlpackage` and the raw window is fed as is.
/// Mirrors EmotionClassifier.kt. Call `classify` from one thread.
public final class EmotionClassifier {
    public static let MODEL_PACKAGE = "emotion.mlpackage"
    public static let WAVEFORM_MODEL_PACKAGE = "emotion_waveform.mlpackage"
    public static let LABELS_FILE = "labels.txt"
    public static let MANIFEST_FILE = "manifest.json"
    public static let LOG_MEL_INPUT_NAME = "log_mel"
    public static let WAVEFORM_INPUT_NAME = "waveform"
    public static let PROBABILITIES_OUTPUT_NAME = "probabilities"
    /// (batch, frames, mel bands, channel).
    public static let LOG_MEL_INPUT_SHAPE =
        [1, LogMelFrontend.PATCH_FRAMES, LogMelFrontend.NUM_MEL_BANDS, 1]
    /// (batch, samples): one window.
    public static let WAVEFORM_INPUT_SHAPE = [1, LogMelFrontend.MIN_SAMPLES]

    /// Labels in model order, from labels.txt.
    public let labels: [String]
    private let model: MLModel
    private let takesWaveform: Bool
    private let frontend = LogMelFrontend()

    /// - Parameters:
    ///   - modelURL: a compiled model (`.mlmodelc`, what Xcode makes of an `.mlpackage` added
    ///     to the app target) or an `.mlpackage` / `.mlmodel`, which is compiled here first.
    ///   - labelsURL: `labels.txt`.
    ///   - manifestURL: `manifest.json`.
    ///   - takesWaveform: true for the waveform-in model.
    public init(
        modelURL: URL, labelsURL: URL, manifestURL: URL, takesWaveform: Bool = false
    ) throws {
        typealias Assets = EmotionClassifier
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: manifestURL))
        guard let manifest = manifest as? [String: Any],
              let preprocessing = manifest["preprocessing"] as? [String: Any],
              let manifestLabels = manifest["labels"] as? [String]
        else {
            throw ClassifierError.invalidAssets(
                "\(Assets.MANIFEST_FILE) lacks preprocessing or labels")
        }
        try Assets.checkPreprocessing(preprocessing)
        let fileLabels = try String(contentsOf: labelsURL, encoding: .utf8)
            .split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        guard fileLabels == manifestLabels else {
            throw ClassifierError.invalidAssets(
                "\(Assets.LABELS_FILE) \(fileLabels) disagrees with "
                    + "\(Assets.MANIFEST_FILE) \(manifestLabels)")
        }
        var compiledURL = modelURL
        if modelURL.pathExtension != "mlmodelc" {
            compiledURL = try MLModel.compileModel(at: modelURL)
        }
        labels = fileLabels
        model = try MLModel(contentsOf: compiledURL)
        self.takesWaveform = takesWaveform
    }

    /// Loads `emotion` (or `emotion_waveform`) and the two text assets from an app bundle.
    public convenience init(bundle: Bundle = .main, takesWaveform: Bool = false) throws {
        typealias Assets = EmotionClassifier
        let package = takesWaveform ? Assets.WAVEFORM_MODEL_PACKAGE : Assets.MODEL_PACKAGE
        let modelName = (package as NSString).deletingPathExtension
        guard let modelURL = bundle.url(forResource: modelName, withExtension: "mlmodelc"),
              let labelsURL = bundle.url(forResource: Assets.LABELS_FILE, withExtension: nil),
              let manifestURL = bundle.url(forResource: Assets.MANIFEST_FILE, withExtension: nil)
        else {
            throw ClassifierError.invalidAssets(
                "add \(package), \(Assets.LABELS_FILE) and \(Assets.MANIFEST_FILE) to the app")
        }
        try self.init(modelURL: modelURL, labelsURL: labelsURL, manifestURL: manifestURL,
                      takesWaveform: takesWaveform)
    }

    /// The window's levels for `SilenceRule` (mean log-mel, ends and peak in dB), from its
    /// log-mel patch by the Swift frontend (also for the waveform-in model, which has its
    /// frontend inside).
    public func levels(_ window: [Float]) throws -> SilenceRule.Levels {
        SilenceRule.levels(try frontend.waveformToPatches(window)[0].flatMap { $0 })
    }

    /// Probabilities for one window of `LogMelFrontend.MIN_SAMPLES` samples, in `labels` order.
    public func classify(_ window: [Float]) throws -> [Float] {
        let expected = LogMelFrontend.MIN_SAMPLES
        precondition(window.count == expected,
                     "window has \(window.count) samples, expected \(expected)")
        let inputName = takesWaveform ? Self.WAVEFORM_INPUT_NAME : Self.LOG_MEL_INPUT_NAME
        let shape = takesWaveform ? Self.WAVEFORM_INPUT_SHAPE : Self.LOG_MEL_INPUT_SHAPE
        // A window of MIN_SAMPLES samples is exactly one patch, (frames, bands) row-major, which
        // is the contiguous layout of the (1, frames, bands, 1) input.
        let values: [Float]
        if takesWaveform {
            values = window
        } else {
            values = try frontend.waveformToPatches(window)[0].flatMap { $0 }
        }
        let input = try MLMultiArray(shape: shape.map { NSNumber(value: $0) }, dataType: .float32)
        let pointer = input.dataPointer.bindMemory(to: Float.self, capacity: values.count)
        for (i, value) in values.enumerated() {
            pointer[i] = value
        }
        let features = try MLDictionaryFeatureProvider(
            dictionary: [inputName: MLFeatureValue(multiArray: input)])
        let output = try model.prediction(from: features)
        let outputName = Self.PROBABILITIES_OUTPUT_NAME
        guard let scores = output.featureValue(for: outputName)?.dictionaryValue else {
            throw ClassifierError.invalidAssets("model has no \(outputName) output")
        }
        return try labels.map { label in
            guard let score = scores[label] else {
                throw ClassifierError.invalidAssets("model gives no probability for '\(label)'")
            }
            return score.floatValue
        }
    }

    /// manifest.json `preprocessing` keys and the frontend constants they must equal.
    private static let FRONTEND_CONSTANTS: [String: Double] = [
        "sample_rate": Double(LogMelFrontend.SAMPLE_RATE),
        "window_length_samples": Double(LogMelFrontend.WINDOW_LENGTH_SAMPLES),
        "hop_length_samples": Double(LogMelFrontend.HOP_LENGTH_SAMPLES),
        "fft_length": Double(LogMelFrontend.FFT_LENGTH),
        "num_mel_bands": Double(LogMelFrontend.NUM_MEL_BANDS),
        "mel_min_hz": LogMelFrontend.MEL_MIN_HZ,
        "mel_max_hz": LogMelFrontend.MEL_MAX_HZ,
        "log_offset": Double(LogMelFrontend.LOG_OFFSET),
        "patch_frames": Double(LogMelFrontend.PATCH_FRAMES),
        "patch_hop_frames": Double(LogMelFrontend.PATCH_HOP_FRAMES),
        "min_samples": Double(LogMelFrontend.MIN_SAMPLES),
    ]

    /// Fails when the exported model expects different preprocessing than this frontend.
    private static func checkPreprocessing(_ preprocessing: [String: Any]) throws {
        for (key, value) in FRONTEND_CONSTANTS {
            let exported = (preprocessing[key] as? NSNumber)?.doubleValue
            // Compared in float32: LOG_OFFSET is a Float constant.
            guard let exported, Float(exported) == Float(value) else {
                throw ClassifierError.invalidAssets(
                    "\(MANIFEST_FILE) preprocessing.\(key) is \(String(describing: exported)),"
                        + " the frontend uses \(value)")
            }
        }
    }
}

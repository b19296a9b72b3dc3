import AVFoundation
import EdgeSER
import Foundation

/// Microphone -> 15600-sample windows every 7680 samples -> Core ML -> smoothed probabilities,
/// published for the UI. Mirrors the capture loop of the Android MainActivity.
@MainActor
final class LiveRecognizer: ObservableObject {
    /// true: run emotion_waveform.mlpackage (frontend inside the model, no Swift frontend).
    static let USE_WAVEFORM_MODEL = false
    /// Windows averaged for the displayed result (0.48 s apart).
    static let SMOOTHING_WINDOWS = Smoother.DEFAULT_WINDOWS

    @Published private(set) var labels: [String] = []
    @Published private(set) var probabilities: [Float] = []
    @Published private(set) var status = "Press Start and speak"
    @Published private(set) var isRecording = false

    private let classifier: EmotionClassifier?
    private let capture = AudioCapture()
    // Windowing, inference and smoothing run on this queue, off the audio and main threads.
    private let queue = DispatchQueue(label: "edge-ser.inference")
    private let window = SlidingWindow()
    private let smoother = Smoother(windows: LiveRecognizer.SMOOTHING_WINDOWS)
    private let silence = SilenceRule.Live()

    init() {
        do {
            let loaded = try EmotionClassifier(takesWaveform: LiveRecognizer.USE_WAVEFORM_MODEL)
            classifier = loaded
            labels = loaded.labels
            probabilities = [Float](repeating: 0, count: loaded.labels.count)
        } catch {
            classifier = nil
            status = "Cannot load the model: \(error)"
        }
    }

    var canRecord: Bool { classifier != nil }

    func toggle() {
        isRecording ? stop() : requestPermissionAndStart()
    }

    private func requestPermissionAndStart() {
        let onAnswer: @Sendable (Bool) -> Void = { granted in
            Task { @MainActor in
                if granted { self.start() } else { self.status = "Microphone permission denied" }
            }
        }
        if #available(iOS 17.0, *) {
            AVAudioApplication.requestRecordPermission(completionHandler: onAnswer)
        } else {
            AVAudioSession.sharedInstance().requestRecordPermission(onAnswer)
        }
    }

    private func start() {
        guard let classifier else { return }
        let (window, smoother, silence) = (self.window, self.smoother, self.silence)
        queue.sync {
            window.reset()
            smoother.reset()
            silence.reset()
        }
        do {
            try capture.start { [queue] samples in
                queue.async {
                    window.push(samples) { samples in
                        // Silent windows (SilenceRule: quiet against the loudest window so
                        // far, or an end far below the loudest frame so far) are shown as
                        // silence and not averaged.
                        guard let levels = try? classifier.levels(samples) else { return }
                        if silence.isSilent(levels) {
                            Task { @MainActor in self.showSilence() }
                            return
                        }
                        guard let scores = try? classifier.classify(samples) else { return }
                        let smoothed = smoother.add(scores)
                        Task { @MainActor in self.show(smoothed) }
                    }
                }
            }
            isRecording = true
        } catch {
            status = "Cannot read from the microphone: \(error)"
        }
    }

    private func stop() {
        capture.stop()
        isRecording = false
    }

    private func showSilence() {
        guard isRecording else { return }
        status = "silence"
    }

    private func show(_ smoothed: [Float]) {
        guard isRecording, let best = smoothed.indices.max(by: { smoothed[$0] < smoothed[$1] })
        else { return }
        probabilities = smoothed
        status = String(format: "%@  %.2f", labels[best], smoothed[best])
    }
}

import AVFoundation

/// Why the microphone cannot be captured.
public enum AudioCaptureError: Error {
    case unsupportedFormat(String)
}

/// Microphone audio as 16 kHz mono float32 chunks: AVAudioEngine's input tap, converted by an
/// AVAudioConverter from the hardware format (often 48 kHz).
public final class AudioCapture {
    private let engine = AVAudioEngine()
    private let targetFormat = AVAudioFormat(
        commonFormat: .pcmFormatFloat32,
        sampleRate: Double(LogMelFrontend.SAMPLE_RATE),
        channels: 1,
        interleaved: false)!

    public init() {}

    /// Starts capturing; `onSamples` runs on the audio tap's thread for every converted chunk.
    public func start(onSamples: @escaping @Sendable ([Float]) -> Void) throws {
        #if os(iOS)
        // .measurement asks for audio without automatic gain control or other voice processing,
        // closest to the recordings the model was trained on.
        let session = AVAudioSession.sharedInstance()
        try session.setCategory(.record, mode: .measurement)
        try session.setActive(true)
        #endif
        let input = engine.inputNode
        let inputFormat = input.outputFormat(forBus: 0)
        guard let converter = AVAudioConverter(from: inputFormat, to: targetFormat) else {
            throw AudioCaptureError.unsupportedFormat("cannot convert \(inputFormat)")
        }
        converter.downmix = true
        let ratio = targetFormat.sampleRate / inputFormat.sampleRate
        let targetFormat = self.targetFormat
        input.installTap(onBus: 0, bufferSize: 4096, format: inputFormat) { buffer, _ in
            let capacity = AVAudioFrameCount(Double(buffer.frameLength) * ratio) + 1
            guard let converted = AVAudioPCMBuffer(pcmFormat: targetFormat, frameCapacity: capacity)
            else { return }
            var delivered = false
            var error: NSError?
            let outcome = converter.convert(to: converted, error: &error) { _, status in
                // Hand over this tap buffer once; the converter keeps its resampler state.
                if delivered {
                    status.pointee = .noDataNow
                    return nil
                }
                delivered = true
                status.pointee = .haveData
                return buffer
            }
            guard outcome != .error, let channel = converted.floatChannelData else { return }
            let count = Int(converted.frameLength)
            onSamples(Array(UnsafeBufferPointer(start: channel[0], count: count)))
        }
        engine.prepare()
        try engine.start()
    }

    /// Stops capturing.
    public func stop() {
        engine.inputNode.removeTap(onBus: 0)
        engine.stop()
    }
}

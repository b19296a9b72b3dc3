/// Cuts a stream of samples into overlapping analysis windows: window i covers stream samples
/// [hop i, hop i + length), which for the defaults (15600, 7680) is exactly patch i of
/// `LogMelFrontend.waveformToPatches` on the whole stream. Mirrors SlidingWindow.java.
/// Not thread-safe.
public final class SlidingWindow {
    private let length: Int
    private let hop: Int
    private var ring: [Float]
    private var samplesSeen = 0

    /// - Parameters:
    ///   - length: samples per window (>= 1).
    ///   - hop: samples between window starts (1 ... length).
    public init(length: Int = LogMelFrontend.MIN_SAMPLES,
                hop: Int = LogMelFrontend.PATCH_HOP_SAMPLES) {
        precondition(length >= 1 && hop >= 1 && hop <= length,
                     "need 1 <= hop <= length, got hop \(hop), length \(length)")
        self.length = length
        self.hop = hop
        ring = [Float](repeating: 0, count: length)
    }

    /// Appends samples and hands every window they complete to `onWindow`, oldest sample first.
    public func push(_ samples: [Float], onWindow: ([Float]) -> Void) {
        for sample in samples {
            ring[samplesSeen % length] = sample
            samplesSeen += 1
            if samplesSeen >= length && (samplesSeen - length) % hop == 0 {
                let oldest = samplesSeen % length
                onWindow(Array(ring[oldest...] + ring[..<oldest]))
            }
        }
    }

    /// Forgets every sample (call when recording restarts).
    public func reset() {
        samplesSeen = 0
    }
}

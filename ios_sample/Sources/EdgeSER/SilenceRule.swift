import Foundation

/// Which windows of a recording are silence, and the clip average without them: the rule of
/// reference_preprocess/SPEC.md, "Silent windows (clip aggregation)", as in `SilenceRule.java`.
///
/// A window's `Levels` are read from its log-mel patch: its level (the mean of the patch), its
/// peak (its loudest frame, in dB) and its ends level (the smaller of the loudest of its first
/// `LogMelFrontend.SPEECH_EDGE_FRAMES` frames and the loudest of its last ones, in dB). A frame's
/// level in dB is `20 log10(max(sum_b (exp(logmel[b]) - 0.01), 1e-9))`, computed in double
/// precision. A window is silence when
///
/// - its level is more than `LogMelFrontend.SILENCE_LEVEL_DROP` below the loudest window's level
///   (the level rule), or
/// - its ends level is more than `LogMelFrontend.SPEECH_FRAME_DROP_DB` below the loudest peak,
///   the loudest frame of all windows (the ends rule): one of its ends holds no frame within
///   30 dB of the loudest frame, so it is the start or the end of an utterance, mostly silence.
///
/// On a whole clip (`silent(_:)`), if the two rules together leave no window, only the level rule
/// applies, so a clip always keeps at least its loudest window. A live stream (`Live`) compares
/// each window with the loudest level and the loudest peak heard so far, without that fallback.
public enum SilenceRule {
    /// The spec's log offset in double precision: a frame's level removes it from each mel
    /// magnitude in float64, as the reference does (`LogMelFrontend.LOG_OFFSET` is the float32
    /// value the log-mel adds).
    static let LOG_OFFSET = 0.01
    /// Floor of a frame's summed mel magnitudes before the log (-180 dB).
    static let MIN_FRAME_MAGNITUDE = 1e-9

    /// What the rule reads from one window (`levels(_:)`).
    public struct Levels: Equatable {
        /// The mean of the window's log-mel patch (natural-log units).
        public let level: Double
        /// The quieter end's loudest frame, in dB: the ends rule compares it with the peak.
        public let endsDb: Double
        /// The window's loudest frame, in dB.
        public let peakDb: Double

        public init(level: Double, endsDb: Double, peakDb: Double) {
            self.level = level
            self.endsDb = endsDb
            self.peakDb = peakDb
        }
    }

    /// The rule on a live stream: each window against the loudest window level and the loudest
    /// frame heard so far, the window itself included (no fallback: any window may be silence).
    public final class Live {
        private var loudest = -Double.infinity
        private var loudestPeakDb = -Double.infinity

        public init() {}

        /// Whether the window of these `Levels` is silence; remembers its level and peak.
        public func isSilent(_ window: Levels) -> Bool {
            loudest = max(loudest, window.level)
            loudestPeakDb = max(loudestPeakDb, window.peakDb)
            return SilenceRule.isSilent(window, loudest: loudest, loudestPeakDb: loudestPeakDb)
        }

        /// Forgets the loudest level and peak (call when recording restarts).
        public func reset() {
            loudest = -Double.infinity
            loudestPeakDb = -Double.infinity
        }
    }

    /// The levels of one window, all summed in double precision.
    ///
    /// - Parameter patch: the window's log-mel patch, `LogMelFrontend.PATCH_FRAMES` frames of
    ///   `LogMelFrontend.NUM_MEL_BANDS` bands, frame after frame (a patch of
    ///   `LogMelFrontend.waveformToPatches` flattened row by row).
    public static func levels(_ patch: [Float]) -> Levels {
        let frames = LogMelFrontend.PATCH_FRAMES
        let bands = LogMelFrontend.NUM_MEL_BANDS
        precondition(patch.count == frames * bands,
                     "expected a patch of \(frames) x \(bands) values, got \(patch.count)")
        var sum = 0.0
        var frameDb = [Double](repeating: 0, count: frames)
        for frame in 0..<frames {
            var magnitude = 0.0
            for band in 0..<bands {
                let value = Double(patch[frame * bands + band])
                sum += value
                magnitude += exp(value) - LOG_OFFSET
            }
            frameDb[frame] = 20 * log10(max(magnitude, MIN_FRAME_MAGNITUDE))
        }
        let edge = min(LogMelFrontend.SPEECH_EDGE_FRAMES, frames)
        let first = loudestDb(frameDb[0..<edge])
        let last = loudestDb(frameDb[(frames - edge)..<frames])
        return Levels(level: sum / Double(patch.count), endsDb: min(first, last),
                      peakDb: loudestDb(frameDb[0..<frames]))
    }

    /// `silent[i]` is true when window `i` is silence among the windows of one clip: against the
    /// clip's loudest level and loudest peak; where that would leave no window, by the level rule
    /// alone.
    public static func silent(_ windows: [Levels]) -> [Bool] {
        let loudest = windows.map(\.level).max() ?? -Double.infinity
        let loudestPeakDb = windows.map(\.peakDb).max() ?? -Double.infinity
        let silent = windows.map { isSilent($0, loudest: loudest, loudestPeakDb: loudestPeakDb) }
        if silent.allSatisfy({ $0 }) {
            return windows.map { isQuiet($0, loudest: loudest) }
        }
        return silent
    }

    /// The clip's probabilities: the mean of the probabilities of its windows that are not
    /// silence (`silent(_:)`; one row of label probabilities and one `Levels` per window).
    public static func clipProbabilities(_ probabilities: [[Float]], levels: [Levels]) -> [Float] {
        precondition(!probabilities.isEmpty && probabilities.count == levels.count,
                     "expected one level per window and at least one window")
        var sum = [Double](repeating: 0, count: probabilities[0].count)
        var kept = 0
        for (row, isSilent) in zip(probabilities, silent(levels)) where !isSilent {
            for k in sum.indices { sum[k] += Double(row[k]) }
            kept += 1
        }
        return sum.map { Float($0 / Double(kept)) }
    }

    /// Both rules: the level rule or the ends rule.
    private static func isSilent(_ window: Levels, loudest: Double, loudestPeakDb: Double) -> Bool {
        isQuiet(window, loudest: loudest)
            || window.endsDb < loudestPeakDb - LogMelFrontend.SPEECH_FRAME_DROP_DB
    }

    /// The level rule alone.
    private static func isQuiet(_ window: Levels, loudest: Double) -> Bool {
        window.level < loudest - LogMelFrontend.SILENCE_LEVEL_DROP
    }

    /// The largest of `frameDb` (minus infinity when empty).
    private static func loudestDb(_ frameDb: ArraySlice<Double>) -> Double {
        frameDb.max() ?? -Double.infinity
    }
}

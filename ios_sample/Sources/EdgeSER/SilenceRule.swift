import Foundation

/// Which windows of a recording are silence, and the clip average without them: the rule of
/// reference_preprocess/SPEC.md, "Silent windows". A window's level is the mean of its log-mel
/// patch; a window is silence when its level is more than `LogMelFrontend.SILENCE_LEVEL_DROP`
/// below the loudest window's. The loudest window is never silence, so a clip always keeps at
/// least one window.
public enum SilenceRule {
    /// The rule on a live stream: each window against the loudest window heard so far.
    public final class Live {
        private var loudest = -Double.infinity

        public init() {}

        /// Whether the window of this `level` is silence; remembers the level.
        public func isSilent(_ level: Double) -> Bool {
            loudest = max(loudest, level)
            return level < loudest - LogMelFrontend.SILENCE_LEVEL_DROP
        }

        /// Forgets the loudest level (call when recording restarts).
        public func reset() { loudest = -Double.infinity }
    }

    /// The level of one window: the mean of its log-mel values, summed in double precision.
    public static func level(_ patch: [Float]) -> Double {
        precondition(!patch.isEmpty, "empty patch")
        return patch.reduce(0.0) { $0 + Double($1) } / Double(patch.count)
    }

    /// `silent[i]` is true when window `i` is silence among `levels`.
    public static func silent(_ levels: [Double]) -> [Bool] {
        let loudest = levels.max() ?? -Double.infinity
        return levels.map { $0 < loudest - LogMelFrontend.SILENCE_LEVEL_DROP }
    }

    /// The clip's probabilities: the mean of the probabilities of its windows that are not
    /// silence (one row of label probabilities and one level per window).
    public static func clipProbabilities(_ probabilities: [[Float]], levels: [Double]) -> [Float] {
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
}

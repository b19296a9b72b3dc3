/// Mean of the probability vectors of the most recent windows (the clip aggregation rule applied
/// to a stream). Mirrors Smoother.java. Not thread-safe.
public final class Smoother {
    /// Windows averaged by default: about 1.9 s of audio at one window per 0.48 s hop.
    public static let DEFAULT_WINDOWS = 3

    private let windows: Int
    private var recent: [[Float]] = []

    /// - Parameter windows: how many recent windows to average (>= 1).
    public init(windows: Int = Smoother.DEFAULT_WINDOWS) {
        precondition(windows >= 1, "windows must be >= 1, got \(windows)")
        self.windows = windows
    }

    /// Adds one window's probabilities; returns the mean over the last `windows` windows
    /// (fewer right after start or `reset()`).
    public func add(_ probabilities: [Float]) -> [Float] {
        if let first = recent.first {
            precondition(first.count == probabilities.count,
                         "expected \(first.count) probabilities, got \(probabilities.count)")
        }
        recent.append(probabilities)
        if recent.count > windows {
            recent.removeFirst()
        }
        var mean = [Float](repeating: 0, count: probabilities.count)
        for window in recent {
            for i in mean.indices {
                mean[i] += window[i]
            }
        }
        return mean.map { $0 / Float(recent.count) }
    }

    /// Forgets every window (call when recording restarts).
    public func reset() {
        recent.removeAll()
    }
}

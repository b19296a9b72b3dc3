import Foundation
import XCTest

@testable import EdgeSER

/// Smoother and SlidingWindow: the app's path from windows to smoothed scores.
final class StreamingPartsTests: XCTestCase {
    func testSmootherAveragesTheLastWindows() {
        let smoother = Smoother(windows: 2)
        XCTAssertEqual(smoother.add([1, 0]), [1, 0])
        XCTAssertEqual(smoother.add([0, 1]), [0.5, 0.5])
        XCTAssertEqual(smoother.add([0, 1]), [0, 1])
        smoother.reset()
        XCTAssertEqual(smoother.add([1, 0]), [1, 0])
    }

    func testStreamedWindowsEqualOfflinePatches() throws {
        let count = LogMelFrontend.MIN_SAMPLES + 3 * LogMelFrontend.PATCH_HOP_SAMPLES + 1234
        // A sweep with a wobble: every window sees different audio.
        let stream = (0..<count).map { i -> Float in
            let t = Double(i) / Double(LogMelFrontend.SAMPLE_RATE)
            return Float(0.3 * sin(2 * Double.pi * (200 * t + 400 * t * t)) + 0.05 * sin(7 * t))
        }
        let frontend = LogMelFrontend()
        let offline = try frontend.waveformToPatches(stream)

        // Feed the stream in uneven chunks, as the audio tap does.
        var windows: [[Float]] = []
        let sliding = SlidingWindow()
        for start in stride(from: 0, to: count, by: 1000) {
            sliding.push(Array(stream[start..<min(start + 1000, count)])) { windows.append($0) }
        }

        XCTAssertEqual(windows.count, offline.count)
        for (window, patch) in zip(windows, offline) {
            XCTAssertEqual(try frontend.waveformToPatches(window)[0], patch)
        }
    }

    func testShortClipIsPaddedToOnePatch() throws {
        let patches = try LogMelFrontend().waveformToPatches([Float](repeating: 0.1, count: 9000))
        XCTAssertEqual(patches.count, 1)
        XCTAssertEqual(patches[0].count, LogMelFrontend.PATCH_FRAMES)
        XCTAssertEqual(patches[0][0].count, LogMelFrontend.NUM_MEL_BANDS)
    }
}

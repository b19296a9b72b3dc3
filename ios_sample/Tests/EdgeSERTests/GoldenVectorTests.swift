import Foundation
import XCTest

@testable import EdgeSER

/// The Swift frontend against the NumPy reference's golden vectors: for every NAME.wave.f32 in
/// the golden directory, the log-mel of the waveform zero-padded to at least 15600 samples must
/// match NAME.logmel.f32 (raw little-endian float32, row-major (num_frames, 64)). Mirrors
/// GoldenCheck.java. The directory is
/// `reference_preprocess/golden/` of this repository, or $EDGESER_GOLDEN_DIR (an export's golden/).
final class GoldenVectorTests: XCTestCase {
    /// Largest accepted absolute log-mel difference, the same as GoldenCheck.TOLERANCE in Java.
    static let TOLERANCE: Float = 1e-5

    static var goldenDirectory: URL {
        if let path = ProcessInfo.processInfo.environment["EDGESER_GOLDEN_DIR"] {
            return URL(fileURLWithPath: path)
        }
        // ios_sample/Tests/EdgeSERTests/GoldenVectorTests.swift -> repository root.
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("reference_preprocess/golden")
    }

    /// Reads a raw little-endian float32 file.
    static func readFloat32(_ url: URL) throws -> [Float] {
        let data = try Data(contentsOf: url)
        XCTAssertEqual(data.count % 4, 0, "\(url.lastPathComponent) size is not a multiple of 4")
        return data.withUnsafeBytes { raw in
            (0..<data.count / 4).map { i in
                let bits = raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)
                return Float(bitPattern: UInt32(littleEndian: bits))
            }
        }
    }

    func testFrontendMatchesGoldenVectors() throws {
        let directory = Self.goldenDirectory
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".wave.f32") }
            .map { String($0.dropLast(".wave.f32".count)) }
            .sorted()
        XCTAssertFalse(names.isEmpty, "no *.wave.f32 files in \(directory.path)")

        let frontend = LogMelFrontend()
        for name in names {
            let waveform = try Self.readFloat32(
                directory.appendingPathComponent("\(name).wave.f32"))
            let expected = try Self.readFloat32(
                directory.appendingPathComponent("\(name).logmel.f32"))
            let actual = try frontend.waveformToLogMel(LogMelFrontend.padToMinLength(waveform))

            XCTAssertEqual(expected.count, actual.count * LogMelFrontend.NUM_MEL_BANDS,
                           "\(name): frame count differs")
            guard expected.count == actual.count * LogMelFrontend.NUM_MEL_BANDS else { continue }
            let diffs = zip(actual.flatMap { $0 }, expected).map { abs($0 - $1) }
            let maxDiff = diffs.max() ?? 0
            let meanDiff = diffs.isEmpty ? 0 : diffs.reduce(0, +) / Float(diffs.count)
            print(String(format: "%@ frames=%ld max_abs_diff=%.3e mean_abs_diff=%.3e",
                         name, actual.count, maxDiff, meanDiff))
            XCTAssertFalse(diffs.contains { $0.isNaN }, "\(name): NaN in the log-mel")
            XCTAssertLessThanOrEqual(maxDiff, Self.TOLERANCE, "\(name): max abs diff")
        }
    }
}

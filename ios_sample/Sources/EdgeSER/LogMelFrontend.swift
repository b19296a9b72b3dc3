import Accelerate
import Foundation

/// Errors of the frontend, mirroring the reference's ValueErrors.
public enum FrontendError: Error, CustomStringConvertible {
    case wrongSampleRate(Int)
    case nonFiniteSamples
    case tooFewFrames(Int)
    case invalidHop(Int)

    public var description: String {
        switch self {
        case .wrongSampleRate(let rate):
            return "sample rate must be \(LogMelFrontend.SAMPLE_RATE) Hz, got \(rate) Hz"
        case .nonFiniteSamples:
            return "waveform contains non-finite samples"
        case .tooFewFrames(let frames):
            let needed = LogMelFrontend.PATCH_FRAMES
            return "log-mel has \(frames) frames, fewer than one patch (\(needed))"
        case .invalidHop(let hop):
            return "hopFrames must be >= 1, got \(hop)"
        }
    }
}

/// Swift port of the edge-ser reference preprocessor (`reference_preprocess/`, spec version
/// `PREPROCESSOR_VERSION`): 16 kHz mono float waveform to 96 x 64 log-mel patches.
///
/// It mirrors `android_sample/.../LogMelFrontend.java`: the constants keep the spec's names and
/// values and the methods follow its numbered steps. Intermediate results are stored as float32
/// like the reference. The FFT is vDSP's double-precision real DFT of 512 points
/// (`vDSP_DFT_zrop_CreateSetupD`) and the mel sums are accumulated in double: the Java port, which
/// does the same, stays within one float32 ulp of the reference, while a float32 FFT drifts by up
/// to 5e-4 on full-scale tones.
///
/// One instance per thread.
public final class LogMelFrontend {
    // Same names and values as reference_preprocess/params.py.
    public static let SAMPLE_RATE = 16000
    public static let WINDOW_LENGTH_SAMPLES = 400
    public static let HOP_LENGTH_SAMPLES = 160
    public static let FFT_LENGTH = 512
    public static let NUM_SPECTRUM_BINS = FFT_LENGTH / 2 + 1
    public static let NUM_MEL_BANDS = 64
    public static let MEL_MIN_HZ = 125.0
    public static let MEL_MAX_HZ = 7500.0
    public static let MEL_HIGH_FREQUENCY_Q = 1127.0
    public static let MEL_BREAK_FREQUENCY_HERTZ = 700.0
    public static let LOG_OFFSET: Float = 0.01
    public static let PATCH_FRAMES = 96
    public static let PATCH_HOP_FRAMES = 48
    public static let MIN_SAMPLES = WINDOW_LENGTH_SAMPLES + (PATCH_FRAMES - 1) * HOP_LENGTH_SAMPLES
    public static let PATCH_HOP_SAMPLES = PATCH_HOP_FRAMES * HOP_LENGTH_SAMPLES
    /// Silent windows (`SilenceRule`): a window whose mean log-mel is more than this below the
    /// loudest window's is silence (natural-log units; about 8.7 dB).
    public static let SILENCE_LEVEL_DROP = 2.0
    /// Silent ends (`SilenceRule`): the frames at each end of a window that the ends rule reads
    /// (0.24 s). A window whose first or last this many frames all lie more than
    /// `SPEECH_FRAME_DROP_DB` below the loudest frame is silence too.
    public static let SPEECH_EDGE_FRAMES = 24
    /// Silent ends (`SilenceRule`): how far below the loudest frame, in dB, a window's ends may
    /// lie at most (a frame's level: 20 log10 of the sum of its mel magnitudes).
    public static let SPEECH_FRAME_DROP_DB = 30.0
    public static let PREPROCESSOR_VERSION = "1"

    private let hannWindow = LogMelFrontend.makePeriodicHannWindow()
    private let melMatrix: [[Float]]
    // Per band, the half-open range of spectrum bins with a non-zero weight.
    private let bandBins: [Range<Int>]
    private let dftSetup: vDSP_DFT_SetupD

    public init() {
        typealias Spec = LogMelFrontend
        let matrix = Spec.makeMelMatrix()
        melMatrix = matrix
        bandBins = (0..<Spec.NUM_MEL_BANDS).map { band in
            let bins = (0..<Spec.NUM_SPECTRUM_BINS).filter { matrix[$0][band] != 0 }
            return (bins.first ?? 0)..<((bins.last ?? -1) + 1)
        }
        guard let setup = vDSP_DFT_zrop_CreateSetupD(nil, vDSP_Length(Spec.FFT_LENGTH), .FORWARD)
        else {
            fatalError("vDSP cannot set up a \(Spec.FFT_LENGTH)-point real DFT")
        }
        dftSetup = setup
    }

    deinit {
        vDSP_DFT_DestroySetupD(dftSetup)
    }

    /// HTK mel scale, `1127 ln(1 + f / 700)`, in double precision.
    public static func hertzToMel(_ hz: Double) -> Double {
        MEL_HIGH_FREQUENCY_Q * log1p(hz / MEL_BREAK_FREQUENCY_HERTZ)
    }

    /// Step 2: number of frames of a waveform of `numSamples` samples (no centering).
    public static func numFrames(_ numSamples: Int) -> Int {
        guard numSamples >= WINDOW_LENGTH_SAMPLES else { return 0 }
        return 1 + (numSamples - WINDOW_LENGTH_SAMPLES) / HOP_LENGTH_SAMPLES
    }

    /// Steps 1-6: log-mel spectrogram `log(|rfft(frame * hann, 512)| @ mel + 0.01)`.
    /// No padding: fewer than 400 samples give zero frames.
    ///
    /// - Parameters:
    ///   - waveform: mono samples in [-1, 1], length num_samples.
    ///   - sampleRate: must equal `SAMPLE_RATE`.
    /// - Returns: float32 rows, shape (num_frames, 64).
    public func waveformToLogMel(
        _ waveform: [Float], sampleRate: Int = LogMelFrontend.SAMPLE_RATE
    ) throws -> [[Float]] {
        // Step 1: input checks.
        guard sampleRate == Self.SAMPLE_RATE else {
            throw FrontendError.wrongSampleRate(sampleRate)
        }
        guard waveform.allSatisfy({ $0.isFinite }) else { throw FrontendError.nonFiniteSamples }

        let half = Self.FFT_LENGTH / 2
        // vDSP's real DFT takes the real sequence split into even (real part) and odd (imaginary
        // part) samples; samples from 400 to 511 stay zero, the end padding of step 4.
        var evenSamples = [Double](repeating: 0, count: half)
        var oddSamples = [Double](repeating: 0, count: half)
        var outReal = [Double](repeating: 0, count: half)
        var outImag = [Double](repeating: 0, count: half)
        var magnitude = [Float](repeating: 0, count: Self.NUM_SPECTRUM_BINS)

        // Step 2: framing, frame j = waveform[160 j : 160 j + 400].
        let frames = Self.numFrames(waveform.count)
        let zeroRow = [Float](repeating: 0, count: Self.NUM_MEL_BANDS)
        var logMel = [[Float]](repeating: zeroRow, count: frames)
        for frame in 0..<frames {
            let offset = frame * Self.HOP_LENGTH_SAMPLES
            // Step 3: periodic Hann window, products rounded to float32 like the reference.
            for n in 0..<Self.WINDOW_LENGTH_SAMPLES {
                let windowed = Double(waveform[offset + n] * hannWindow[n])
                if n % 2 == 0 {
                    evenSamples[n / 2] = windowed
                } else {
                    oddSamples[n / 2] = windowed
                }
            }
            // Step 4: |rfft| -> 257 bins. The packed output holds 2 X[0] in outReal[0], 2 X[256]
            // in outImag[0] and 2 X[k] as (outReal[k], outImag[k]) for k = 1..255.
            vDSP_DFT_ExecuteD(dftSetup, evenSamples, oddSamples, &outReal, &outImag)
            magnitude[0] = Float(abs(outReal[0]) / 2)
            magnitude[half] = Float(abs(outImag[0]) / 2)
            for k in 1..<half {
                let power = outReal[k] * outReal[k] + outImag[k] * outImag[k]
                magnitude[k] = Float(power.squareRoot() / 2)
            }
            // Steps 5-6: mel energies, then log(energy + 0.01).
            for band in 0..<Self.NUM_MEL_BANDS {
                var energy = 0.0
                for bin in bandBins[band] {
                    energy += Double(magnitude[bin]) * Double(melMatrix[bin][band])
                }
                logMel[frame][band] = Float(log(Double(Float(energy) + Self.LOG_OFFSET)))
            }
        }
        return logMel
    }

    /// Step 7: patch i = logMel[hop i ..< hop i + 96]; trailing frames that do not fill a patch
    /// are dropped. Returns shape (1 + (num_frames - 96) / hopFrames, 96, 64).
    public static func logMelToPatches(
        _ logMel: [[Float]], hopFrames: Int = LogMelFrontend.PATCH_HOP_FRAMES
    ) throws -> [[[Float]]] {
        guard logMel.count >= PATCH_FRAMES else { throw FrontendError.tooFewFrames(logMel.count) }
        guard hopFrames >= 1 else { throw FrontendError.invalidHop(hopFrames) }
        let patches = 1 + (logMel.count - PATCH_FRAMES) / hopFrames
        return (0..<patches).map { patch in
            Array(logMel[(patch * hopFrames)..<(patch * hopFrames + PATCH_FRAMES)])
        }
    }

    /// Step 8: zero-pad at the end to `MIN_SAMPLES` if shorter; else return as is.
    public static func padToMinLength(_ waveform: [Float]) -> [Float] {
        waveform.count >= MIN_SAMPLES
            ? waveform : waveform + [Float](repeating: 0, count: MIN_SAMPLES - waveform.count)
    }

    /// Model inputs for a clip: pad to 15600 samples, log-mel, patches. Patch i covers samples
    /// [160 hopFrames i, 160 hopFrames i + 15600); every clip yields at least one patch.
    public func waveformToPatches(
        _ waveform: [Float],
        sampleRate: Int = LogMelFrontend.SAMPLE_RATE,
        hopFrames: Int = LogMelFrontend.PATCH_HOP_FRAMES
    ) throws -> [[[Float]]] {
        let logMel = try waveformToLogMel(Self.padToMinLength(waveform), sampleRate: sampleRate)
        return try Self.logMelToPatches(logMel, hopFrames: hopFrames)
    }

    /// Step 3: periodic Hann window w[n] = 0.5 - 0.5 cos(2 pi n / 400), float32.
    private static func makePeriodicHannWindow() -> [Float] {
        (0..<WINDOW_LENGTH_SAMPLES).map { n in
            Float(0.5 - 0.5 * cos(2.0 * Double.pi * Double(n) / Double(WINDOW_LENGTH_SAMPLES)))
        }
    }

    /// Step 5: VGGish mel matrix, [bin][band] = (257, 64), computed in double, stored float32.
    private static func makeMelMatrix() -> [[Float]] {
        let nyquistHz = Double(SAMPLE_RATE) / 2.0
        let edges = (0..<(NUM_MEL_BANDS + 2)).map {
            linspace(hertzToMel(MEL_MIN_HZ), hertzToMel(MEL_MAX_HZ), NUM_MEL_BANDS + 2, $0)
        }
        return (0..<NUM_SPECTRUM_BINS).map { bin in
            // Row 0 (the DC bin) stays zero.
            guard bin > 0 else { return [Float](repeating: 0, count: NUM_MEL_BANDS) }
            let binMel = hertzToMel(linspace(0.0, nyquistHz, NUM_SPECTRUM_BINS, bin))
            return (0..<NUM_MEL_BANDS).map { band in
                let (lower, center, upper) = (edges[band], edges[band + 1], edges[band + 2])
                let lowerSlope = (binMel - lower) / (center - lower)
                let upperSlope = (upper - binMel) / (upper - center)
                return Float(max(0.0, min(lowerSlope, upperSlope)))
            }
        }
    }

    /// Element i of NumPy's `linspace(start, stop, num)` (same arithmetic).
    private static func linspace(_ start: Double, _ stop: Double, _ num: Int, _ i: Int) -> Double {
        i == num - 1 ? stop : Double(i) * ((stop - start) / Double(num - 1)) + start
    }
}

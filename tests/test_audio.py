"""edge_ser.audio: formats, downmix, resampling, streaming, headers and every error class."""

from __future__ import annotations

import pickle
import struct
import tracemalloc
import wave
from pathlib import Path

import numpy as np
import pytest
from audio_factory import (
    KINDS,
    QUANTISATION_STEP,
    set_wav_data_size,
    write_empty,
    write_not_audio,
    write_tone,
    write_truncated,
    write_with_value,
    write_zero_samples,
)

from edge_ser import audio
from edge_ser.errors import EdgeSerError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
RAW_WAV_DIR = DATA / "ravdess-raw-wav"

# iter_blocks feeds soxr.ResampleStream the same filter as the one-shot soxr.resample, so
# the two agree to float32 rounding; this is the tolerance the streaming contract states.
STREAM_TOLERANCE = 1e-6


def _suffix(kind: str) -> str:
    return "." + KINDS[kind][0].lower()


@pytest.mark.parametrize("channels", [1, 2, 3])
@pytest.mark.parametrize("kind", sorted(set(KINDS) - {"ogg"}))
def test_lossless_formats_load_as_the_mean_of_channels(tmp_path, kind, channels):
    path = tmp_path / f"clip{_suffix(kind)}"
    written = write_tone(path, seconds=0.5, kind=kind, channels=channels)
    expected = written if channels == 1 else written.mean(axis=1)

    loaded = audio.load(path)

    assert loaded.dtype == np.float32 and loaded.ndim == 1
    assert len(loaded) == len(expected)
    step = QUANTISATION_STEP[KINDS[kind][1]]
    np.testing.assert_allclose(loaded, expected, rtol=0, atol=step + 1e-7)


def test_ogg_vorbis_loads_close_to_the_signal(tmp_path):
    written = write_tone(tmp_path / "clip.ogg", seconds=1.0, channels=2)
    loaded = audio.load(tmp_path / "clip.ogg")
    expected = written.mean(axis=1)
    assert len(loaded) == len(expected)
    error = loaded - expected
    assert np.sqrt(np.mean(error**2)) < 0.05 * np.sqrt(np.mean(expected**2))  # lossy: > 26 dB SNR


@pytest.mark.parametrize("source_sr", [8000, 11025, 12345, 22050, 44100, 48000])
def test_resampling_preserves_a_tone(tmp_path, source_sr):
    path = tmp_path / "tone.wav"
    written = write_tone(path, seconds=1.0, sample_rate=source_sr, kind="wav_float")

    loaded = audio.load(path)

    assert abs(len(loaded) - len(written) * 16000 / source_sr) <= 1
    analytic = 0.5 * np.sin(2 * np.pi * 440.0 * np.arange(len(loaded)) / 16000)
    interior = slice(800, -800)  # skip the resampler's edge transients (50 ms each side)
    np.testing.assert_allclose(loaded[interior], analytic[interior], rtol=0, atol=1e-4)


def test_load_to_another_target_rate(tmp_path):
    write_tone(tmp_path / "tone.flac", seconds=1.0, sample_rate=16000)
    loaded = audio.load(tmp_path / "tone.flac", target_sr=8000)
    assert len(loaded) == 8000


def test_samples_beyond_full_scale_are_clipped(tmp_path):
    path = tmp_path / "loud.wav"
    written = write_with_value(path, index=100, value=1.5)
    loaded = audio.load(path)
    assert loaded[100] == 1.0
    assert np.abs(loaded).max() <= 1.0
    np.testing.assert_allclose(np.delete(loaded, 100), np.delete(written, 100), atol=1e-7)


@pytest.mark.parametrize("target_sr", [0, -16000, 16000.5])
def test_bad_target_rate_is_a_value_error(tmp_path, target_sr):
    write_tone(tmp_path / "a.wav", seconds=0.1)
    with pytest.raises(ValueError, match="target_sr"):
        audio.load(tmp_path / "a.wav", target_sr=target_sr)


def test_wav_with_unknown_data_size_and_trailing_chunk_loads(tmp_path):
    original = tmp_path / "a.wav"
    written = write_tone(original, seconds=0.3, kind="wav_float")
    streamed = tmp_path / "streamed.wav"
    streamed.write_bytes(original.read_bytes())
    set_wav_data_size(streamed, 0xFFFFFFFF)
    trailing = tmp_path / "trailing.wav"
    trailing.write_bytes(original.read_bytes() + b"LIST\x04\x00\x00\x00INFO")

    for path in (streamed, trailing):
        np.testing.assert_allclose(audio.load(path), written, atol=1e-7)


# --- streaming -----------------------------------------------------------------------


@pytest.mark.parametrize("block_seconds", [0.01, 0.37, 1.0, 10.0])
def test_iter_blocks_equals_load_exactly_without_resampling(tmp_path, block_seconds):
    path = tmp_path / "stereo.wav"
    write_tone(path, seconds=2.0, channels=2, kind="wav_24")
    blocks = list(audio.iter_blocks(path, block_seconds=block_seconds))
    assert all(b.dtype == np.float32 and b.ndim == 1 and len(b) > 0 for b in blocks)
    assert max(len(b) for b in blocks) <= round(block_seconds * 16000)
    assert len(blocks) == int(np.ceil(2.0 / block_seconds))
    np.testing.assert_array_equal(np.concatenate(blocks), audio.load(path))


@pytest.mark.parametrize("source_sr", [8000, 22050, 44100, 48000])
@pytest.mark.parametrize("block_seconds", [0.05, 0.5])
def test_iter_blocks_matches_load_when_resampling(tmp_path, source_sr, block_seconds):
    path = tmp_path / "tone.flac"
    write_tone(path, seconds=1.5, sample_rate=source_sr, channels=2, kind="flac_24")
    blocks = list(audio.iter_blocks(path, block_seconds=block_seconds))
    assert all(len(b) > 0 for b in blocks)
    streamed = np.concatenate(blocks)
    loaded = audio.load(path)
    assert len(streamed) == len(loaded)
    np.testing.assert_allclose(streamed, loaded, rtol=0, atol=STREAM_TOLERANCE)


def test_iter_blocks_checks_the_file_before_iterating(tmp_path):
    with pytest.raises(audio.AudioFileNotFound):
        audio.iter_blocks(tmp_path / "missing.wav")  # no next() needed
    write_tone(tmp_path / "a.wav", seconds=0.1)
    with pytest.raises(ValueError, match="block_seconds"):
        audio.iter_blocks(tmp_path / "a.wav", block_seconds=0)


def test_iter_blocks_yields_good_blocks_before_a_nan(tmp_path):
    path = tmp_path / "nan.wav"
    write_with_value(path, index=12000, value=np.nan)
    blocks = audio.iter_blocks(path, block_seconds=0.5)
    first = next(blocks)
    assert len(first) == 8000 and np.isfinite(first).all()
    with pytest.raises(audio.NonFiniteSamples, match="at frame 12000"):
        next(blocks)


# --- headers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "sample_rate", "channels"),
    [("wav_16", 44100, 2), ("wav_float", 8000, 1), ("flac_24", 48000, 2), ("ogg", 22050, 1)],
)
def test_info_reports_the_header(tmp_path, kind, sample_rate, channels):
    path = tmp_path / f"clip{_suffix(kind)}"
    written = write_tone(path, seconds=0.75, sample_rate=sample_rate, channels=channels, kind=kind)
    header = audio.info(path)
    assert header == audio.AudioInfo(
        path=path,
        sample_rate=sample_rate,
        channels=channels,
        frames=len(written),
        duration_s=len(written) / sample_rate,
        format=KINDS[kind][0],
        subtype=KINDS[kind][1],
    )


def test_info_describes_a_file_without_samples(tmp_path):
    header = audio.info(write_zero_samples(tmp_path / "none.wav"))
    assert header.frames == 0 and header.duration_s == 0.0


# --- errors --------------------------------------------------------------------------


def _nan_wav(path: Path) -> Path:
    write_with_value(path, index=5, value=np.nan)
    return path


def _inf_wav(path: Path) -> Path:
    write_with_value(path, index=7, value=-np.inf)
    return path


def _m4a(path: Path) -> Path:
    path.write_bytes(b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00" + bytes(500))
    return path


def _cut_in_header(path: Path) -> Path:
    write_tone(path, seconds=0.1)
    path.write_bytes(path.read_bytes()[:30])
    return path


def _directory(path: Path) -> Path:
    path.mkdir()
    return path


ERROR_CASES = [
    ("missing.wav", lambda p: p, audio.AudioFileNotFound, "no such file"),
    ("empty.wav", write_empty, audio.EmptyAudioFile, "file is empty (0 bytes)"),
    ("text.wav", write_not_audio, audio.NotAudioFile, "not a recognised audio file"),
    ("folder.wav", _directory, audio.NotAudioFile, "is a directory"),
    ("song.m4a", _m4a, audio.UnsupportedAudioFormat, "MP4/M4A audio"),
    ("cut.wav", write_truncated, audio.TruncatedAudioFile, "header declares 32000 bytes"),
    ("cut_header.wav", _cut_in_header, audio.TruncatedAudioFile, "ends before its audio data"),
    ("cut.flac", write_truncated, audio.TruncatedAudioFile, "truncated or corrupt"),
    ("none.wav", write_zero_samples, audio.NoSamples, "contains no audio samples"),
    ("nan.wav", _nan_wav, audio.NonFiniteSamples, "at frame 5"),
    ("inf.wav", _inf_wav, audio.NonFiniteSamples, "at frame 7"),
]


@pytest.mark.parametrize(
    ("name", "make", "error", "reason"), ERROR_CASES, ids=[case[0] for case in ERROR_CASES]
)
@pytest.mark.parametrize("reader", ["load", "iter_blocks"])
def test_errors_are_one_line_and_name_the_file(tmp_path, name, make, error, reason, reader):
    path = make(tmp_path / name)
    with pytest.raises(error) as caught:
        if reader == "load":
            audio.load(path)
        else:
            list(audio.iter_blocks(path, block_seconds=0.1))
    message = str(caught.value)
    assert isinstance(caught.value, audio.AudioError)
    assert isinstance(caught.value, EdgeSerError)
    assert message.startswith(f"cannot read '{path}': ")
    assert reason in message
    assert "\n" not in message
    chained = caught.value.__cause__ or (
        None if caught.value.__suppress_context__ else caught.value.__context__
    )
    assert chained is None  # no soundfile traceback behind the message
    copy = pickle.loads(pickle.dumps(caught.value))
    assert type(copy) is error and str(copy) == message


def test_info_detects_a_truncated_wav_without_decoding(tmp_path):
    with pytest.raises(audio.TruncatedAudioFile, match="only 1597. are present"):
        audio.info(write_truncated(tmp_path / "cut.wav"))


# --- real RAVDESS WAV files ------------------------------------------------------------


def _raw_wavs() -> list[Path]:
    if not RAW_WAV_DIR.is_dir():
        pytest.skip(f"RAVDESS raw WAV files not found: {RAW_WAV_DIR}")
    return sorted(RAW_WAV_DIR.glob("*.wav"))


def _decode_with_wave_module(path: Path) -> tuple[np.ndarray, int]:
    """Mono float64 samples and rate, decoded by the standard library (16-bit PCM only)."""
    with wave.open(str(path)) as handle:
        assert handle.getsampwidth() == 2
        raw = np.frombuffer(handle.readframes(handle.getnframes()), dtype="<i2")
        frames = raw.reshape(-1, handle.getnchannels()) / 32768.0
        return frames.mean(axis=1), handle.getframerate()


def test_raw_ravdess_wavs_load_as_16k_mono():
    paths = _raw_wavs()
    assert len(paths) == 6
    stereo = 0
    for path in paths:
        header = audio.info(path)
        stereo += header.channels == 2
        waveform = audio.load(path)
        assert waveform.dtype == np.float32 and waveform.ndim == 1
        assert abs(len(waveform) - header.frames / 3) <= 1  # 48 kHz -> 16 kHz
        assert np.isfinite(waveform).all()
        assert np.abs(waveform).max() <= 1.0
        assert np.abs(waveform).max() > 0.01  # speech, not silence
    assert stereo == 2  # the data README: two of the six are stereo


def test_raw_ravdess_wavs_decode_like_the_standard_library():
    for path in _raw_wavs():
        expected, rate = _decode_with_wave_module(path)
        np.testing.assert_allclose(audio.load(path, target_sr=rate), expected, atol=1e-7)


def test_raw_ravdess_wav_match_librosa():
    librosa = pytest.importorskip("librosa")
    path = _raw_wavs()[1]  # a stereo one
    expected, _ = librosa.load(path, sr=16000, mono=True, res_type="soxr_vhq")
    loaded = audio.load(path)
    assert abs(len(loaded) - len(expected)) <= 1  # librosa rounds the length up
    n = min(len(loaded), len(expected))
    np.testing.assert_allclose(loaded[:n], expected[:n], atol=1e-6)


# -- corrupt files: a correct result or an AudioError, never anything else -----------------


def test_a_flac_header_declaring_a_huge_length_costs_no_memory(tmp_path):
    path = tmp_path / "huge.flac"
    write_tone(path, seconds=0.25, sample_rate=16000, kind="flac_16")
    data = bytearray(path.read_bytes())
    # STREAMINFO (after "fLaC" and the 4-byte block header): the 36-bit total sample count
    # ends the 8 bytes at offset 18; declare 2**36 - 1 frames.
    data[21] |= 0x0F
    data[22:26] = b"\xff\xff\xff\xff"
    path.write_bytes(bytes(data))
    assert audio.info(path).frames == 2**36 - 1
    tracemalloc.start()
    try:
        with pytest.raises(audio.TruncatedAudioFile):
            audio.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024 * 1024


@pytest.mark.parametrize("rate", [1, 1_076_698_752])
def test_a_sample_rate_no_audio_has_is_refused(tmp_path, rate):
    path = tmp_path / "odd_rate.wav"
    write_tone(path, seconds=0.25, sample_rate=16000, kind="wav_16")
    data = bytearray(path.read_bytes())
    data[24:28] = struct.pack("<I", rate)  # fmt chunk: sample rate
    path.write_bytes(bytes(data))
    with pytest.raises(audio.UnsupportedAudioFormat, match=f"sample rate {rate} Hz is outside"):
        audio.load(path)


FUZZ_SOURCES = [("wav_16", 16000, 1), ("wav_24", 48000, 2), ("wav_float", 22050, 1)]
FUZZ_SOURCES += [("wav_u8", 8000, 1), ("flac_16", 44100, 2), ("flac_24", 48000, 1)]
FUZZ_SOURCES += [("ogg", 16000, 1)]
FUZZ_CASES = 1000


def _mutated(data: bytes, rng: np.random.Generator) -> tuple[bytes, str]:
    """``data`` with a few bits flipped (mostly in the header), cut short, or a header field
    overwritten with an extreme 32-bit value."""
    data = bytearray(data)
    operation = int(rng.integers(3))
    if operation == 0:
        for _ in range(int(rng.integers(1, 9))):
            span = min(len(data), 64) if rng.random() < 0.7 else len(data)
            data[int(rng.integers(span))] ^= 1 << int(rng.integers(8))
        return bytes(data), "bit flips"
    if operation == 1:
        return bytes(data[: int(rng.integers(1, len(data)))]), "truncated"
    offset = int(rng.integers(4, min(len(data) - 4, 60)))
    value = int(rng.choice([0, 1, 2, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, rng.integers(2**32)]))
    data[offset : offset + 4] = struct.pack("<I", value)
    return bytes(data), f"header bytes {offset}..{offset + 3} = {value:#x}"


def test_fuzzed_audio_files_load_or_raise_audio_errors(tmp_path):
    """Seeded corruptions of every format: ``load`` and ``iter_blocks`` either return mono
    float32 audio in [-1, 1] of a plausible length or raise an ``AudioError``."""
    sources = []
    for kind, rate, channels in FUZZ_SOURCES:
        path = tmp_path / f"source_{kind}{_suffix(kind)}"
        write_tone(path, seconds=0.25, sample_rate=rate, kind=kind, channels=channels)
        sources.append((kind, path.read_bytes()))
    rng = np.random.default_rng(18)
    outcomes = {"loaded": 0, "refused": 0}
    problems = []
    for case in range(FUZZ_CASES):
        kind, original = sources[int(rng.integers(len(sources)))]
        data, how = _mutated(original, rng)
        path = tmp_path / f"case{case}{_suffix(kind)}"
        path.write_bytes(data)
        try:
            waveform = audio.load(path)
            streamed = np.concatenate(list(audio.iter_blocks(path)))
        except audio.AudioError:
            outcomes["refused"] += 1
            continue
        except Exception as exc:  # noqa: BLE001  (the finding this test exists for)
            problems.append(f"{kind}, {how}: {type(exc).__name__}: {exc}")
            continue
        outcomes["loaded"] += 1
        plausible = 0 < len(waveform) <= 64 * len(data) and abs(len(streamed) - len(waveform)) <= 1
        if not (
            waveform.ndim == 1
            and waveform.dtype == np.float32
            and np.isfinite(waveform).all()
            and np.abs(waveform).max(initial=0.0) <= 1.0
            and plausible
        ):
            problems.append(f"{kind}, {how}: {waveform.dtype} {waveform.shape} returned")
    assert problems == []
    assert min(outcomes.values()) > FUZZ_CASES // 10  # both outcomes are exercised

"""The web sample end to end in headless Chromium (``playwright-core``): a dropped file, and a
WAV played as the fake microphone, give the windows of ``edge-ser predict --artifact`` on the
same file, window by window (also for an export of a label set, which outputs fewer labels).

The float32 waveform-in export must match to 1e-3: the page's windows, resampling, label
order and smoothing are then what edge-ser computes. The int8 export (the page's default
model) rounds its probabilities to steps of 1/256, and its float32 log-mel frontend runs in
WebAssembly, whose float rounding differs from the native build by about 1e-5 in the output
of the float32 model: enough to move some int8 windows by a few steps. Its windows must give
the same label wherever the decision is clear and lie within ``INT8_STEPS`` steps.

The silence rule of ``silence.js`` (the level and the silent-ends rules) is also checked in
Node, on the same 16 kHz samples as Python: each window's levels against ``window_levels``, and
the silent windows of a clip and of a live stream against ``silent_windows``, on real clips (a
RAVDESS clip with long silence before and after the sentence, where the ends rule marks windows
the level rule does not) and on a one-window clip where only the level rule applies.

Skipped where Chromium, Node or the page's npm packages (``make test`` installs them) are
missing, or without the shared clips.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from edge_ser import Recognizer, audio
from edge_ser.artifacts import layout
from edge_ser.cli import main
from edge_ser.export.parity import DECISIVE_MARGIN
from edge_ser.recognizer import input_levels
from edge_ser.reference_preprocess import (
    LiveSilence,
    WindowLevels,
    quiet_windows,
    silent_windows,
    waveform_to_log_mel,
    window_levels,
)
from edge_ser.reference_preprocess.params import MIN_SAMPLES, PATCH_HOP_SAMPLES
from edge_ser.windows import waveform_windows

pytestmark = pytest.mark.slow

WEB_SAMPLE = Path(__file__).resolve().parents[1] / "web_sample"
DRIVER = WEB_SAMPLE / "test" / "run-page.mjs"
SILENCE_DRIVER = WEB_SAMPLE / "test" / "silence-levels.mjs"
CHROMIUM = Path("/usr/bin/chromium")
CLIP = "emodb/wav/08b03Tc.wav"  # 9.0 s of speech at 16 kHz: 17 windows
DEVICE_RATE = 44100  # the rate of Chromium's fake microphone
MIC_WINDOWS = 10
FLOAT32_TOLERANCE = 1e-3
INT8_STEPS = 6  # measured: at most 4 steps of 1/256 on this clip
LABEL_SET = ("neutral", "happy", "sad", "angry")  # with calm merged into neutral
# 3.5 s at 48 kHz, 6 windows: 0.9 s of digital silence before the sentence and 0.8 s of room
# noise after it. The ends rule marks 4 windows (0, 1, 4, 5) the level rule does not (their
# levels lie 0.9 or more above its threshold, their ends 19 dB or more below the ends rule's).
SILENT_ENDS_CLIP = "ravdess-speech-actors01-20/Actor_14/03-01-01-01-01-01-14.flac"
# silence.js's levels and Python's (float32 log-mel) on the same samples: measured within 6e-8
# (mean log-mel) and 7e-6 dB. A dropped file's samples are Chromium's decoding of the WAV,
# whose 16-bit scale differs from soundfile's by about 3e-5: measured 1.3e-5 and 2.3e-4 dB.
LEVEL_TOLERANCE = 1e-6
DB_TOLERANCE = 1e-4
DECODED_LEVEL_TOLERANCE = 1e-4
DECODED_DB_TOLERANCE = 2e-3


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """The bundled model's two waveform-in exports."""
    missing = [
        what
        for what, present in (
            ("Debian's chromium (/usr/bin/chromium)", CHROMIUM.is_file()),
            ("node", shutil.which("node") is not None),
            ("web_sample/node_modules (npm ci)", (WEB_SAMPLE / "node_modules").is_dir()),
        )
        if not present
    ]
    if missing:
        pytest.skip(f"the browser test needs {', '.join(missing)}: `make test` installs them")
    out = tmp_path_factory.mktemp("web") / "dist"
    formats = ["tflite-waveform-int8", "tflite-waveform-float32"]
    assert main(["export", "--out", str(out), "--formats", *formats]) == 0
    return out


@pytest.fixture(scope="module")
def label_set_dist(dist, tmp_path_factory) -> Path:
    """The float32 waveform-in export of a label set: fewer labels than the model's."""
    out = tmp_path_factory.mktemp("web") / "labels"
    formats = ["--formats", "tflite-waveform-float32"]
    label_set = ["--labels", ",".join(LABEL_SET), "--merge", "calm=neutral"]
    assert main(["export", "--out", str(out), *formats, *label_set]) == 0
    return out


def _shared_clip(shared_data: Path, relative: str, corpus: str) -> Path:
    path = shared_data / relative
    if not path.is_file():
        pytest.skip(f"{corpus} clip not found: {path}")
    return path


@pytest.fixture(scope="module")
def clip(shared_data) -> Path:
    return _shared_clip(shared_data, CLIP, "EMO-DB")


@pytest.fixture(scope="module")
def silent_ends_clip(shared_data) -> Path:
    return _shared_clip(shared_data, SILENT_ENDS_CLIP, "RAVDESS")


@pytest.fixture(scope="module")
def node() -> None:
    if shutil.which("node") is None:
        pytest.skip("the silence rule's test needs node")


def python_levels(waveform: np.ndarray) -> WindowLevels:
    """The silence rule's levels of a 16 kHz clip's windows, from the reference log-mel."""
    return window_levels(np.stack([waveform_to_log_mel(w) for w in waveform_windows(waveform)]))


def page_levels(windows: list[dict]) -> WindowLevels:
    """The ``levels`` of the page's windows (``silence.js`` ``windowLevels``) as Python's."""
    keys = ("level", "endsDb", "peakDb")
    return WindowLevels(*(np.array([w["levels"][key] for w in windows]) for key in keys))


def assert_same_levels(
    got: WindowLevels, expected: WindowLevels, tolerance=LEVEL_TOLERANCE, db=DB_TOLERANCE
) -> None:
    assert np.abs(got.mean - expected.mean).max() <= tolerance
    assert np.abs(got.ends_db - expected.ends_db).max() <= db
    assert np.abs(got.peak_db - expected.peak_db).max() <= db


def run_silence(waveform: np.ndarray, tmp_path: Path) -> dict:
    """``silence.js`` on a 16 kHz clip in Node: each window's levels, the clip's silent windows,
    and those of a live stream of the clip."""
    samples = tmp_path / "clip.f32"
    np.asarray(waveform, "<f4").tofile(samples)
    done = subprocess.run(
        ["node", str(SILENCE_DRIVER), str(samples)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    output = json.loads(done.stdout)
    return {**output, "levels": page_levels([{"levels": w} for w in output["levels"]])}


@pytest.mark.parametrize("which", ["clip", "silent_ends_clip"])
def test_silence_rule_follows_python(which, node, tmp_path, request):
    waveform = audio.load(request.getfixturevalue(which), target_sr=16000)
    expected = python_levels(waveform)
    got = run_silence(waveform, tmp_path)
    assert_same_levels(got["levels"], expected)
    silent = silent_windows(expected)
    assert got["silent"] == silent.tolist()
    assert got["live"] == LiveSilence().silent(expected).tolist()
    if which == "silent_ends_clip":
        # The clip holds windows only the ends rule marks.
        assert np.flatnonzero(silent & ~quiet_windows(expected)).tolist() == [0, 1, 4, 5]


def test_silence_rule_keeps_a_clip_whose_only_window_has_silent_ends(
    node, silent_ends_clip, tmp_path
):
    """One window: 0.375 s of the clip's loudest speech amid digital silence. Its ends hold no
    frame within 30 dB of its peak, so both rules leave the clip no window and only the level
    rule applies; a live stream has no such fallback."""
    speech = audio.load(silent_ends_clip, target_sr=16000)
    loudest = int(np.argmax(np.abs(speech)))
    waveform = np.zeros(MIN_SAMPLES, np.float32)
    waveform[4800:10800] = speech[loudest - 3000 : loudest + 3000]
    expected = python_levels(waveform)
    got = run_silence(waveform, tmp_path)
    assert_same_levels(got["levels"], expected)
    assert got["silent"] == silent_windows(expected).tolist() == [False]
    assert got["live"] == LiveSilence().silent(expected).tolist() == [True]


def run_page(model: Path, *args: str) -> dict:
    """The page's ``window.edgeSer`` state after the driver's scenario."""
    done = subprocess.run(
        ["node", str(DRIVER), "--model", str(model), *args],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    output = json.loads(done.stdout)
    assert output["state"]["error"] is None, output["console"]
    # Everything is served locally; MediaPipe's usage logging is refused by the page's CSP.
    assert all(url.startswith("http://127.0.0.1:") for url in output["requests"])
    return output["state"]


def predict(model: Path, wav: Path, capsys) -> dict:
    capsys.readouterr()
    assert main(["predict", "--artifact", str(model), "--json", "--timeline", str(wav)]) == 0
    return json.loads(capsys.readouterr().out)["clips"][0]


def probabilities(windows: list[dict], labels: list[str], key: str = "probabilities"):
    return np.array([[w[key][label] for label in labels] for w in windows])


def assert_same_windows(page: np.ndarray, cli: np.ndarray, float32: bool) -> None:
    if float32:
        assert (page.argmax(1) == cli.argmax(1)).all()
        assert np.abs(page - cli).max() <= FLOAT32_TOLERANCE
        return
    top_two = np.sort(cli, axis=1)[:, -2:]
    decisive = top_two[:, 1] - top_two[:, 0] >= DECISIVE_MARGIN
    assert (page.argmax(1) == cli.argmax(1))[decisive].all()
    assert np.abs(page - cli).max() <= INT8_STEPS / 256


@pytest.mark.parametrize(
    "export, name",
    [
        ("dist", layout.WAVEFORM_FLOAT32_TFLITE),
        ("dist", layout.WAVEFORM_INT8_TFLITE),
        ("label_set_dist", layout.WAVEFORM_FLOAT32_TFLITE),
    ],
)
def test_dropped_file_gives_the_windows_of_predict(export, name, clip, capsys, request):
    model = request.getfixturevalue(export) / name
    state = run_page(model, "--drop", str(clip))
    expected = predict(model, clip, capsys)
    labels = list(expected["probabilities"])
    assert state["labels"] == labels
    if export == "label_set_dist":
        assert labels == list(LABEL_SET)
    got = state["file"]
    assert [w["start_s"] for w in got["windows"]] == [w["start_s"] for w in expected["windows"]]
    float32 = name == layout.WAVEFORM_FLOAT32_TFLITE
    # The silence rule: the page's levels of each window are Python's on the same samples, the
    # same windows are silence (the level and ends rules), and stay out of the clip's mean.
    levels = python_levels(audio.load(clip, target_sr=16000))
    decoded = (DECODED_LEVEL_TOLERANCE, DECODED_DB_TOLERANCE)
    assert_same_levels(page_levels(got["windows"]), levels, *decoded)
    silent = [w["silence"] for w in got["windows"]]
    assert silent == silent_windows(levels).tolist()
    assert silent == [w["silence"] for w in expected["windows"]]
    if float32:
        assert [w["label"] for w in got["windows"]] == [w["label"] for w in expected["windows"]]
    page, cli = probabilities(got["windows"], labels), probabilities(expected["windows"], labels)
    assert_same_windows(page, cli, float32)
    clip_page = probabilities([got], labels)
    clip_cli = probabilities([expected], labels)
    assert_same_windows(clip_page, clip_cli, float32)


def from_sample(recording: np.ndarray, start: int) -> np.ndarray:
    """``recording`` from sample ``start`` on; a negative start prepends that many zeros."""
    return np.concatenate([np.zeros(max(0, -start), recording.dtype), recording[max(0, start) :]])


def capture_start(head: np.ndarray, recording: np.ndarray, rate: int) -> tuple[int, float]:
    """The sample of ``recording`` (at ``rate``) where the page's 16 kHz capture begins
    (negative when the device delivered silence before the file), and the mean squared
    difference of the capture from the recording there, over the samples the compared windows
    hold (past the device's start-up)."""
    resampled = soxr.resample(recording, rate, 16000, quality="VHQ")
    end = MIC_WINDOWS * PATCH_HOP_SAMPLES + MIN_SAMPLES
    segment = head[4000:end]
    size = len(resampled) + len(segment)
    spectrum = np.fft.rfft(resampled, size) * np.conj(np.fft.rfft(segment, size))
    lag = int(np.argmax(np.fft.irfft(spectrum, size)))
    lag = lag - size if lag > size // 2 else lag  # circular: late indices are negative lags
    coarse = round((lag - 4000) * rate / 16000)

    def error(start: int) -> float:
        aligned = soxr.resample(from_sample(recording, start), rate, 16000, quality="VHQ")
        aligned = aligned[4000:end]
        return float(np.mean((aligned - segment) ** 2)) if len(aligned) == len(segment) else 1.0

    start = min(range(coarse - 4, coarse + 5), key=error)
    return start, error(start)


def test_microphone_windows_follow_predict(dist, clip, tmp_path, capsys):
    model = dist / layout.WAVEFORM_FLOAT32_TFLITE
    speech, rate = sf.read(clip, dtype="float32")
    wav = tmp_path / "microphone.wav"
    sf.write(wav, soxr.resample(speech, rate, DEVICE_RATE, quality="VHQ"), DEVICE_RATE)
    recording, _ = sf.read(wav, dtype="float32")
    # A real-time capture on a busy machine may drop or repeat a block of audio: the capture
    # must then differ from the recording, and is taken again (at most three times).
    for _ in range(3):
        state = run_page(model, "--mic", str(wav), "--windows", str(MIC_WINDOWS + 1))
        assert state["inputRate"] == DEVICE_RATE, "the fake microphone's rate changed"
        start, residual = capture_start(np.array(state["head"], np.float32), recording, DEVICE_RATE)
        if residual < 1e-6:
            break
    assert residual < 1e-6, f"the capture does not follow the recording ({residual:.1e})"

    # The page's windows start where its capture began: predict the recording from there on.
    aligned = tmp_path / "aligned.wav"
    sf.write(aligned, from_sample(recording, start), DEVICE_RATE, subtype="FLOAT")
    expected = predict(model, aligned, capsys)["windows"][1:MIC_WINDOWS]
    live = state["live"][1:MIC_WINDOWS]  # window 0 holds the microphone's start-up
    labels = state["labels"]
    assert labels == list(expected[0]["probabilities"])
    page, cli = probabilities(live, labels), probabilities(expected, labels)
    assert_same_windows(page, cli, float32=True)
    # The page's live silence is the live rule on its own levels: each window against the
    # loudest level and the loudest peak so far.
    every = state["live"]
    assert [w["silence"] for w in every] == LiveSilence().silent(page_levels(every)).tolist()
    # What the page shows, as a Recognizer stream computes it: the mean of the last three
    # windows that are not silence, silence judged against the loudest level and peak so far.
    # Window 0 holds the microphone's start-up, so only windows whose loudest level and peak so
    # far and whose smoothed windows come after it are compared (window 1 holds the second half
    # of window 0: a peak there is in both).
    stream = Recognizer.load(model).stream(smoothing=3)
    waveform = audio.load(aligned, target_sr=16000)
    shown = stream.feed(waveform)[:MIC_WINDOWS]
    levels = input_levels(waveform_windows(waveform)[:MIC_WINDOWS])
    silent = [w.silence for w in shown]
    compared = [
        j
        for j in range(1, MIC_WINDOWS)
        if np.argmax(levels.mean[: j + 1]) > 0
        and levels.peak_db[1 : j + 1].max() == levels.peak_db[: j + 1].max()
        and min([i for i in range(j + 1) if not silent[i]][-3:]) > 0
    ]
    assert len(compared) >= 3
    page_live = {j + 1: w for j, w in enumerate(live)}
    assert [page_live[j]["silence"] for j in compared] == [silent[j] for j in compared]
    smoothed = probabilities([shown[j].to_dict() for j in compared], labels)
    page_smoothed = probabilities([page_live[j] for j in compared], labels, "smoothed")
    assert np.abs(page_smoothed - smoothed).max() <= FLOAT32_TOLERANCE

"""The web sample end to end in headless Chromium (``playwright-core``): a dropped file, and a
WAV played as the fake microphone, give the windows of ``edge-ser predict --artifact`` on the
same file, window by window (also for an export of a label set, which outputs fewer labels).

The float32 waveform-in export must match to 1e-3: the page's windows, resampling, label
order and smoothing are then what edge-ser computes. The int8 export (the page's default
model) rounds its probabilities to steps of 1/256, and its float32 log-mel frontend runs in
WebAssembly, whose float rounding differs from the native build by about 1e-5 in the output
of the float32 model: enough to move some int8 windows by a few steps. Its windows must give
the same label wherever the decision is clear and lie within ``INT8_STEPS`` steps.

Skipped where Chromium, Node or the page's npm packages (``make test`` installs them) are
missing, or without the shared EMO-DB clip.
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
from edge_ser.reference_preprocess.params import MIN_SAMPLES, PATCH_HOP_SAMPLES
from edge_ser.windows import waveform_windows

pytestmark = pytest.mark.slow

WEB_SAMPLE = Path(__file__).resolve().parents[1] / "web_sample"
DRIVER = WEB_SAMPLE / "test" / "run-page.mjs"
CHROMIUM = Path("/usr/bin/chromium")
CLIP = "emodb/wav/08b03Tc.wav"  # 9.0 s of speech at 16 kHz: 17 windows
DEVICE_RATE = 44100  # the rate of Chromium's fake microphone
MIC_WINDOWS = 10
FLOAT32_TOLERANCE = 1e-3
INT8_STEPS = 6  # measured: at most 4 steps of 1/256 on this clip
LABEL_SET = ("neutral", "happy", "sad", "angry")  # with calm merged into neutral


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


@pytest.fixture(scope="module")
def clip(shared_data) -> Path:
    path = shared_data / CLIP
    if not path.is_file():
        pytest.skip(f"EMO-DB clip not found: {path}")
    return path


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
    # The silence rule: the same windows are silence, and stay out of the clip's mean.
    assert [w["silence"] for w in got["windows"]] == [w["silence"] for w in expected["windows"]]
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
    # What the page shows, as a Recognizer stream computes it: the mean of the last three
    # windows that are not silence, silence judged against the loudest window so far.
    # Window 0 holds the microphone's start-up, so only windows whose loudest window so far
    # and whose smoothed windows come after it are compared.
    stream = Recognizer.load(model).stream(smoothing=3)
    waveform = audio.load(aligned, target_sr=16000)
    shown = stream.feed(waveform)[:MIC_WINDOWS]
    levels = input_levels(waveform_windows(waveform)[:MIC_WINDOWS])
    silent = [w.silence for w in shown]
    compared = [
        j
        for j in range(1, MIC_WINDOWS)
        if np.argmax(levels[: j + 1]) > 0
        and min([i for i in range(j + 1) if not silent[i]][-3:]) > 0
    ]
    assert len(compared) >= 3
    page_live = {j + 1: w for j, w in enumerate(live)}
    assert [page_live[j]["silence"] for j in compared] == [silent[j] for j in compared]
    smoothed = probabilities([shown[j].to_dict() for j in compared], labels)
    page_smoothed = probabilities([page_live[j] for j in compared], labels, "smoothed")
    assert np.abs(page_smoothed - smoothed).max() <= FLOAT32_TOLERANCE

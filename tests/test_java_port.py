"""The Android sample's plain-Java frontend against the NumPy reference, with only a JDK.

Compiles ``LogMelFrontend.java`` + ``GoldenCheck.java`` and runs GoldenCheck on the reference
golden vectors, then on corrupted copies to prove the check can fail. The int8 quantizer is
compared with the manifest rule computed in NumPy, the silence rule (``SilenceRule.java``: each
window's mean, ends and peak levels, the clip's silent windows with the fallback, the live rule)
with ``edge_ser.reference_preprocess.silence`` on real patches, and the Gradle project's JUnit
tests run too when a JUnit 4 jar is available locally.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

from edge_ser.aggregate import clip_probabilities
from edge_ser.audio import load
from edge_ser.reference_preprocess import (
    MIN_SAMPLES,
    SILENCE_LEVEL_DROP,
    SPEECH_FRAME_DROP_DB,
    LiveSilence,
    quiet_windows,
    silent_windows,
    waveform_to_patches,
    window_levels,
)
from edge_ser.reference_preprocess.make_golden import GOLDEN_DIR, INDEX_FILE

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "android_sample" / "app" / "src"
JAVA_DIR = APP / "main" / "java" / "com" / "edgeser" / "sample"
JAVA_TEST_DIR = APP / "test" / "java" / "com" / "edgeser" / "sample"
GOLDEN_CHECK = "com.edgeser.sample.GoldenCheck"
# One result line of GoldenCheck, e.g. "tone  frames=98  max_abs_diff=4.768e-07 ... ok".
RESULT_LINE = re.compile(
    r"^(?P<name>\S+)\s+frames=(?P<frames>\d+)\s+max_abs_diff=(?P<max>\S+)"
    r"\s+mean_abs_diff=(?P<mean>\S+)\s+(?P<verdict>ok|FAIL)$"
)
# JUnit 4 and Hamcrest jars, where Maven keeps them; the JUnit test is skipped without them.
M2 = Path.home() / ".m2" / "repository"
JUNIT_JARS = (
    M2 / "junit" / "junit" / "4.13.2" / "junit-4.13.2.jar",
    M2 / "org" / "hamcrest" / "hamcrest-core" / "1.3" / "hamcrest-core-1.3.jar",
)

pytestmark = pytest.mark.skipif(
    shutil.which("javac") is None or shutil.which("java") is None,
    reason="no JDK: javac and java are not both on PATH",
)


def _javac(out_dir: Path, sources: list[Path], classpath: str | None = None) -> None:
    command = ["javac", "-Xlint:all", "-Werror", "-d", str(out_dir)]
    if classpath:
        command += ["-cp", classpath]
    subprocess.run(command + [str(s) for s in sources], check=True, capture_output=True)


def _golden_check(classes: Path, golden_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["java", "-cp", str(classes), GOLDEN_CHECK, str(golden_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _results(stdout: str) -> dict[str, re.Match[str]]:
    matches = (RESULT_LINE.match(line.strip()) for line in stdout.splitlines())
    return {m["name"]: m for m in matches if m}


def _java_tolerance() -> float:
    source = (JAVA_DIR / "GoldenCheck.java").read_text()
    return float(re.search(r"double TOLERANCE = ([0-9.eE+-]+);", source).group(1))


@pytest.fixture(scope="module")
def classes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("java_classes")
    _javac(out, [JAVA_DIR / "LogMelFrontend.java", JAVA_DIR / "GoldenCheck.java"])
    return out


@pytest.fixture(scope="module")
def golden_index() -> dict:
    index = GOLDEN_DIR / INDEX_FILE
    if not index.is_file():
        pytest.skip(f"reference golden vectors not found: {index}")
    return json.loads(index.read_text())


def test_golden_check_passes_on_reference_golden(classes: Path, golden_index: dict) -> None:
    run = _golden_check(classes, GOLDEN_DIR)

    assert run.returncode == 0, run.stdout + run.stderr
    results = _results(run.stdout)
    expected = {signal["name"]: signal["num_frames"] for signal in golden_index["signals"]}
    assert {name: int(m["frames"]) for name, m in results.items()} == expected
    tolerance = _java_tolerance()
    assert tolerance <= 1e-4
    for name, match in results.items():
        assert float(match["max"]) <= tolerance, name
        assert match["verdict"] == "ok", name
    assert re.search(r"max_abs_diff=\S+ tolerance=\S+ PASS$", run.stdout.strip())


def _shift_one_value(path: Path, tolerance: float) -> None:
    values = np.fromfile(path, dtype="<f4")
    values[values.size // 2] += np.float32(10 * tolerance)
    values.tofile(path)


def _drop_last_frame(path: Path, tolerance: float) -> None:
    values = np.fromfile(path, dtype="<f4")
    values[:-64].tofile(path)


@pytest.mark.parametrize("corrupt", [_shift_one_value, _drop_last_frame])
def test_golden_check_fails_on_corrupted_copy(
    classes: Path, golden_index: dict, tmp_path: Path, corrupt
) -> None:
    golden_copy = tmp_path / "golden"
    shutil.copytree(GOLDEN_DIR, golden_copy)
    victim = golden_index["signals"][-1]["name"]
    corrupt(golden_copy / f"{victim}.logmel.f32", _java_tolerance())

    run = _golden_check(classes, golden_copy)

    assert run.returncode == 1, run.stdout + run.stderr
    assert re.search(rf"^{victim}\s.*FAIL$", run.stdout, flags=re.MULTILINE)
    others = {name: m for name, m in _results(run.stdout).items() if name != victim}
    assert len(others) == len(golden_index["signals"]) - 1
    assert all(m["verdict"] == "ok" for m in others.values())
    assert run.stdout.strip().endswith("FAIL")


def test_golden_check_rejects_directory_without_vectors(classes: Path, tmp_path: Path) -> None:
    run = _golden_check(classes, tmp_path)

    assert run.returncode == 2
    assert "no *.wave.f32 files" in run.stderr


QUANTIZER_PROBE = """
import com.edgeser.sample.GoldenCheck;
import com.edgeser.sample.Quantizer;
import java.nio.file.Files;
import java.nio.file.Paths;

public class QuantizerProbe {
    public static void main(String[] args) throws Exception {
        Quantizer quantizer = new Quantizer(Float.parseFloat(args[0]), Integer.parseInt(args[1]));
        float[] values = GoldenCheck.readFloat32(Paths.get(args[2]));
        byte[] quantized = new byte[values.length];
        float[] restored = new float[values.length];
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < values.length; i++) {
            quantized[i] = quantizer.quantize(values[i]);
            text.append(Float.floatToRawIntBits(quantizer.dequantize(quantized[i]))).append('\\n');
        }
        Files.write(Paths.get(args[3]), quantized);
        Files.writeString(Paths.get(args[4]), text);
    }
}
"""


@pytest.fixture(scope="module")
def quantizer_probe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("quantizer_probe")
    probe = out / "QuantizerProbe.java"
    probe.write_text(QUANTIZER_PROBE)
    java_names = ("Quantizer.java", "GoldenCheck.java", "LogMelFrontend.java")
    _javac(out, [JAVA_DIR / name for name in java_names] + [probe])
    return out


# 0.0625 is a power of two, so x / scale is exact and the values next to ties stay next to ties.
@pytest.mark.parametrize(("scale", "zero_point"), [(0.0625, 0), (0.0390625, -20), (0.1234567, 17)])
def test_quantizer_follows_manifest_rule(
    quantizer_probe: Path, tmp_path: Path, scale: float, zero_point: int
) -> None:
    scale32 = np.float32(scale)
    ties = (np.arange(-140, 140) + 0.5).astype(np.float32)
    near_ties = np.concatenate([np.nextafter(ties, np.float32(np.inf)), np.nextafter(ties, 0)])
    rng = np.random.default_rng(0)
    values = np.concatenate(
        [
            np.concatenate([ties, near_ties]) * scale32,
            rng.uniform(-8.0, 8.0, 2000),
            [0.0, -0.0, 1e6, -1e6, 1e-30],
        ]
    ).astype(np.float32)
    values.astype("<f4").tofile(tmp_path / "values.f32")

    subprocess.run(
        ["java", "-cp", str(quantizer_probe), "QuantizerProbe"]
        + [repr(float(scale32)), str(zero_point)]
        + [str(tmp_path / name) for name in ("values.f32", "q.i8", "x.txt")],
        check=True,
        timeout=60,
    )

    scaled = values / scale32
    rounded = np.sign(scaled) * np.floor(np.abs(scaled.astype(np.float64)) + 0.5)
    expected_q = np.clip(rounded + zero_point, -128, 127).astype(np.int8)
    actual_q = np.fromfile(tmp_path / "q.i8", dtype=np.int8)
    np.testing.assert_array_equal(actual_q, expected_q)
    expected_x = (expected_q.astype(np.int32) - zero_point).astype(np.float32) * scale32
    bits = np.array((tmp_path / "x.txt").read_text().split(), dtype=np.int64).astype(np.uint32)
    np.testing.assert_array_equal(bits.view(np.float32), expected_x)


def test_gradle_unit_tests_pass_with_junit(tmp_path: Path, golden_index: dict) -> None:
    missing = [str(jar) for jar in JUNIT_JARS if not jar.is_file()]
    if missing:
        pytest.skip(f"JUnit 4 jars not found: {', '.join(missing)}")
    classpath = os.pathsep.join([str(tmp_path), *map(str, JUNIT_JARS)])
    plain_java = sorted(JAVA_DIR.glob("*.java")) + sorted(JAVA_TEST_DIR.glob("*.java"))
    _javac(tmp_path, plain_java, classpath)
    test_classes = [f"com.edgeser.sample.{path.stem}" for path in JAVA_TEST_DIR.glob("*.java")]

    run = subprocess.run(
        ["java", f"-Dedgeser.goldenDir={GOLDEN_DIR}", "-cp", classpath]
        + ["org.junit.runner.JUnitCore", *test_classes],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"^OK \(\d+ tests\)$", run.stdout, flags=re.MULTILINE)


SILENCE_PROBE = """
import com.edgeser.sample.GoldenCheck;
import com.edgeser.sample.SilenceRule;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Arrays;

public class SilenceProbe {
    public static void main(String[] args) throws Exception {
        float[] patches = GoldenCheck.readFloat32(Paths.get(args[0]));
        float[] probs = GoldenCheck.readFloat32(Paths.get(args[1]));
        int n = Integer.parseInt(args[2]);
        int labels = probs.length / n;
        SilenceRule.Levels[] levels = new SilenceRule.Levels[n];
        float[][] rows = new float[n][];
        int size = patches.length / n;
        for (int i = 0; i < n; i++) {
            levels[i] = SilenceRule.levels(Arrays.copyOfRange(patches, i * size, (i + 1) * size));
            rows[i] = Arrays.copyOfRange(probs, i * labels, (i + 1) * labels);
        }
        StringBuilder text = new StringBuilder();
        for (SilenceRule.Levels window : levels) text.append(window.level).append(' ');
        text.append('\\n');
        for (SilenceRule.Levels window : levels) text.append(window.endsDb).append(' ');
        text.append('\\n');
        for (SilenceRule.Levels window : levels) text.append(window.peakDb).append(' ');
        text.append('\\n');
        for (boolean silent : SilenceRule.silent(levels)) text.append(silent ? 1 : 0).append(' ');
        text.append('\\n');
        SilenceRule.Live live = new SilenceRule.Live();
        for (SilenceRule.Levels w : levels) text.append(live.isSilent(w) ? 1 : 0).append(' ');
        text.append('\\n');
        for (float p : SilenceRule.clipProbabilities(rows, levels)) {
            text.append(Float.floatToRawIntBits(p)).append(' ');
        }
        Files.writeString(Paths.get(args[3]), text.toString());
    }
}
"""
SILENCE_RULE = JAVA_DIR / "SilenceRule.java"
# The ends rule in SilenceRule.java, which the mutant below leaves out.
JAVA_ENDS_RULE = "window.endsDb < loudestPeakDb - LogMelFrontend.SPEECH_FRAME_DROP_DB"
# A RAVDESS clip (actor 01, neutral) with long silence before and after the sentence: the ends
# rule marks windows the level rule keeps.
RAVDESS_SILENT_ENDS = "Actor_01/03-01-01-01-01-01-01.flac"
# Actor 01, fearful, strong: windows silent by the level rule and by the ends rule.
RAVDESS_BOTH_RULES = "Actor_01/03-01-06-02-01-01-01.flac"


def _compile_silence_probe(out: Path, silence_rule: Path = SILENCE_RULE) -> Path:
    (out / "SilenceProbe.java").write_text(SILENCE_PROBE)
    others = [JAVA_DIR / n for n in ("GoldenCheck.java", "LogMelFrontend.java")]
    _javac(out, [silence_rule, *others, out / "SilenceProbe.java"])
    return out


@pytest.fixture(scope="module")
def silence_probe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _compile_silence_probe(tmp_path_factory.mktemp("silence_probe"))


class JavaSilence(NamedTuple):
    """What SilenceProbe prints for a clip's patches."""

    mean: np.ndarray
    ends_db: np.ndarray
    peak_db: np.ndarray
    silent: list[bool]
    live_silent: list[bool]
    clip_probabilities: np.ndarray


def _java_silence(probe: Path, work: Path, patches: np.ndarray, probs: np.ndarray) -> JavaSilence:
    patches.astype("<f4").tofile(work / "patches.f32")
    probs.astype("<f4").tofile(work / "probs.f32")
    subprocess.run(
        ["java", "-cp", str(probe), "SilenceProbe"]
        + [str(work / n) for n in ("patches.f32", "probs.f32")]
        + [str(len(patches)), str(work / "out.txt")],
        check=True,
        timeout=60,
    )
    lines = (work / "out.txt").read_text().splitlines()
    mean, ends_db, peak_db = (np.array(line.split(), float) for line in lines[:3])
    silent, live_silent = ([bool(int(v)) for v in line.split()] for line in lines[3:5])
    bits = np.array(lines[5].split(), np.int64).astype(np.uint32)
    return JavaSilence(mean, ends_db, peak_db, silent, live_silent, bits.view(np.float32))


def _check_against_python(java: JavaSilence, patches: np.ndarray, probs: np.ndarray):
    """Assert the Java port equals the Python rule on these patches; return Python's levels."""
    levels = window_levels(patches)
    silent = silent_windows(levels)
    np.testing.assert_allclose(java.mean, levels.mean, rtol=0, atol=1e-9)
    np.testing.assert_allclose(java.ends_db, levels.ends_db, rtol=0, atol=1e-6)
    np.testing.assert_allclose(java.peak_db, levels.peak_db, rtol=0, atol=1e-6)
    assert java.silent == silent.tolist()
    assert java.live_silent == LiveSilence().silent(levels).tolist()
    expected = clip_probabilities(probs, silent)
    np.testing.assert_allclose(java.clip_probabilities, expected, atol=1e-6)
    return levels


def _probabilities(patches: np.ndarray) -> np.ndarray:
    return np.random.default_rng(0).dirichlet(np.ones(8), len(patches)).astype(np.float32)


def test_silence_rule_port_matches_python(silence_probe: Path, tmp_path: Path) -> None:
    # Golden speech, then silence, then a quiet copy of the speech: loud, silent and quiet windows.
    voice = np.fromfile(GOLDEN_DIR / "voice.wave.f32", dtype="<f4")
    wave = np.concatenate([voice, np.zeros(24000, np.float32), 0.02 * voice, voice])
    patches = waveform_to_patches(wave)
    probs = _probabilities(patches)

    java = _java_silence(silence_probe, tmp_path, patches, probs)

    levels = _check_against_python(java, patches, probs)
    assert 0 < sum(java.silent) < len(java.silent)  # both kinds of window are exercised
    assert any(quiet_windows(levels))  # the level rule marks some windows
    assert 0 < sum(java.live_silent) < len(java.live_silent)


@pytest.mark.parametrize("clip", [RAVDESS_SILENT_ENDS, RAVDESS_BOTH_RULES])
def test_silence_rule_port_matches_python_on_ravdess(
    silence_probe: Path, tmp_path: Path, ravdess_dir: Path, clip: str
) -> None:
    patches = waveform_to_patches(load(ravdess_dir / clip))
    probs = _probabilities(patches)

    java = _java_silence(silence_probe, tmp_path, patches, probs)

    levels = _check_against_python(java, patches, probs)
    silent, quiet = np.array(java.silent), quiet_windows(levels)
    assert (silent & ~quiet).any()  # the ends rule marks windows the level rule keeps
    assert not silent.all()
    if clip == RAVDESS_BOTH_RULES:
        assert quiet.any()


def test_silence_live_rule_port_remembers_the_loudest_peak(
    silence_probe: Path, tmp_path: Path, ravdess_dir: Path
) -> None:
    # A stream: the clip, then the same clip 10 dB quieter.
    clip = load(ravdess_dir / RAVDESS_SILENT_ENDS)
    patches = waveform_to_patches(np.concatenate([clip, 0.3 * clip]))
    probs = _probabilities(patches)

    java = _java_silence(silence_probe, tmp_path, patches, probs)

    levels = _check_against_python(java, patches, probs)
    # Some windows are silence only against a louder frame heard before them: not quiet, and
    # their ends within the drop of their own peak.
    loudest = np.maximum.accumulate(levels.mean)
    loudest_peak = np.maximum.accumulate(levels.peak_db)
    by_earlier_peak = (
        (levels.mean >= loudest - SILENCE_LEVEL_DROP)
        & (levels.ends_db >= levels.peak_db - SPEECH_FRAME_DROP_DB)
        & (levels.ends_db < loudest_peak - SPEECH_FRAME_DROP_DB)
    )
    assert np.array(java.live_silent)[by_earlier_peak].all()
    assert by_earlier_peak.any()


def test_silence_rule_port_keeps_a_clip_s_loudest_window(
    silence_probe: Path, tmp_path: Path
) -> None:
    # A short word in the middle of one window of digital silence: the window's ends are far
    # below its own peak, so both rules together would leave the clip nothing.
    voice = np.fromfile(GOLDEN_DIR / "voice.wave.f32", dtype="<f4")
    wave = np.zeros(MIN_SAMPLES, np.float32)
    word = voice[: len(wave) // 3]
    start = (len(wave) - len(word)) // 2
    wave[start : start + len(word)] = word
    patches = waveform_to_patches(wave)
    probs = _probabilities(patches)

    java = _java_silence(silence_probe, tmp_path, patches, probs)

    levels = _check_against_python(java, patches, probs)
    assert len(patches) == 1
    assert levels.ends_db[0] < levels.peak_db[0] - SPEECH_FRAME_DROP_DB
    assert java.silent == quiet_windows(levels).tolist() == [False]  # the level rule alone
    assert java.live_silent == [True]  # a stream has no fallback


def test_silence_rule_check_fails_without_the_ends_rule(tmp_path: Path, ravdess_dir: Path) -> None:
    """A SilenceRule.java whose ends rule is gone fails the comparison on the RAVDESS clip."""
    source = SILENCE_RULE.read_text()
    assert source.count(JAVA_ENDS_RULE) == 1
    mutant = tmp_path / "src" / SILENCE_RULE.name
    mutant.parent.mkdir()
    mutant.write_text(source.replace(JAVA_ENDS_RULE, "false"))
    probe = _compile_silence_probe(tmp_path, mutant)
    patches = waveform_to_patches(load(ravdess_dir / RAVDESS_SILENT_ENDS))
    probs = _probabilities(patches)

    java = _java_silence(probe, tmp_path, patches, probs)

    levels = window_levels(patches)
    np.testing.assert_allclose(java.ends_db, levels.ends_db, rtol=0, atol=1e-6)
    assert java.silent != silent_windows(levels).tolist()  # the comparison catches it
    assert java.silent == quiet_windows(levels).tolist()
    with pytest.raises(AssertionError):
        _check_against_python(java, patches, probs)

"""`edge-ser bench`: every report field is produced and rendered (no timing assertions)."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import shutil
from dataclasses import asdict
from pathlib import Path

import pytest
from test_recognizer import tiny_export  # noqa: F401  (session fixture)

from edge_ser import bench
from edge_ser.artifacts import layout
from edge_ser.bench import end_to_end, machine, probes
from edge_ser.cli import main

LATENCY_ROWS = {
    "TFLite int8, 1 thread",
    "TFLite float32, 1 thread",
    "Keras predict_on_batch",
    "Keras direct call",
}


@pytest.fixture(scope="module")
def bench_run(tiny_export, tmp_path_factory):  # noqa: F811
    """One short bench run: its exit code, stdout, JSON report and Markdown file."""
    out = tmp_path_factory.mktemp("bench")
    argv = [str(tiny_export.dist), "--model", str(tiny_export.model_dir), "--skip-hour"]
    argv += ["--seconds", "2", "--repeats", "3", "--warmup", "1", "--note", "A tiny model."]
    argv += ["--json", str(out / "bench.json"), "--markdown", str(out / "bench.md")]
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main(["bench", *argv])
    return code, stdout.getvalue(), json.loads((out / "bench.json").read_text()), out / "bench.md"


def test_exit_code_and_outputs(bench_run):
    code, printed, _, markdown = bench_run
    assert code == 0
    assert printed == markdown.read_text()


def test_latency_rows_and_ratios(bench_run):
    _, _, report, _ = bench_run
    rows = report["latency_ms"]
    assert set(rows) >= LATENCY_ROWS and len(rows) == 6
    for row in rows.values():
        assert row["repeats"] == 3 and 0 < row["median_ms"] <= row["p90_ms"]
    ratios = report["ratios"]
    assert "float32 / int8 TFLite (1 thread)" in ratios and len(ratios) == 6
    int8 = rows["TFLite int8, 1 thread"]["median_ms"]
    f32 = rows["TFLite float32, 1 thread"]["median_ms"]
    assert ratios["float32 / int8 TFLite (1 thread)"] == pytest.approx(f32 / int8)


def test_throughput_against_peak(bench_run):
    _, _, report, _ = bench_run
    t = report["int8_throughput"]
    # widths (8, 16), bands folded by 4: 3x3 convs on 96x16x4 -> 8 and on 48x8x8 -> 16, then
    # an 8 bands * 16 channels -> 8 labels dense.
    assert t["macs_per_patch"] == 96 * 16 * 8 * 9 * 4 + 48 * 8 * 16 * 9 * 8 + 8 * 16 * 8
    seconds = report["latency_ms"]["TFLite int8, 1 thread"]["median_ms"] / 1e3
    assert t["achieved_gmacs"] == pytest.approx(t["macs_per_patch"] / seconds / 1e9)
    peak = report["machine"]["peak"]
    assert peak == asdict(machine.peak(machine.read_cpuinfo()))
    assert t["peak_gmacs"] == pytest.approx(
        peak["int8_macs_per_cycle"] * report["machine"]["clock_ghz"]
    )
    assert t["fraction_of_peak"] == pytest.approx(t["achieved_gmacs"] / t["peak_gmacs"])
    assert t["assumption"] == f"{peak['isa']}: {peak['basis']}"
    ceiling = report["reference_models"][probes.CEILING_PROBE]
    assert t["fraction_of_matmul_probe"] == pytest.approx(
        t["achieved_gmacs"] / ceiling["int8_gmacs"]
    )
    f32 = report["latency_ms"]["TFLite float32, 1 thread"]["median_ms"] / 1e3
    assert t["float32_gmacs"] == pytest.approx(t["macs_per_patch"] / f32 / 1e9)
    assert t["float32_fraction_of_matmul_probe"] == pytest.approx(
        t["float32_gmacs"] / ceiling["float32_gmacs"]
    )


def test_reference_models(bench_run):
    _, printed, report, _ = bench_run
    reference = report["reference_models"]
    assert set(reference) == set(probes.PROBES)
    ceiling, baseline = reference[probes.CEILING_PROBE], reference[probes.BASELINE_PROBE]
    assert ceiling["macs"] == probes.GEMM_LAYERS * probes.GEMM_CHANNELS**2 * 48 * 16
    # 3x3 convs: 96x64 1->16, 48x32 16->32, 24x16 32->64, 12x8 64->128; dense 128->8.
    conv_macs = 96 * 64 * 16 * 9 + 48 * 32 * 32 * 9 * 16 + 24 * 16 * 64 * 9 * 32
    assert baseline["macs"] == conv_macs + 12 * 8 * 128 * 9 * 64 + 128 * 8
    assert 95_000 < baseline["parameters"] < 100_000
    for p in reference.values():
        assert p["float32_over_int8"] == pytest.approx(p["float32_ms"] / p["int8_ms"])
        for precision in ("int8", "float32"):
            assert p[f"{precision}_gmacs"] == pytest.approx(p["macs"] / p[f"{precision}_ms"] / 1e6)
    assert all(f"| {name} |" in printed for name in reference)


def test_preprocessing_end_to_end_sizes_memory_goals(bench_run, tiny_export):  # noqa: F811
    _, _, report, _ = bench_run
    prep = report["preprocessing"]
    assert "reference (NumPy)" in prep
    if importlib.util.find_spec("librosa") is not None:
        assert "librosa" in prep
    for row in prep.values():
        assert row["audio_seconds"] == 2.0 and row["x_real_time"] > 0
    assert set(report["end_to_end"]) == set(end_to_end.RECORDINGS)
    for name, e2e in report["end_to_end"].items():
        assert e2e["source_rate_hz"] == end_to_end.RECORDINGS[name][0]
        hop_frames = end_to_end.RECORDINGS[name][2]
        assert e2e["window_hop_s"] == hop_frames / 100
        assert e2e["audio_seconds"] == pytest.approx(2.0)
        assert e2e["windows"] == 1 + (198 - 96) // hop_frames  # 198 frames in 2 s
        assert e2e["x_real_time"] == pytest.approx(2.0 / e2e["median_s"])
        assert set(e2e["stage_seconds"]) == set(end_to_end.STAGES)
        assert all(seconds > 0 for seconds in e2e["stage_seconds"].values())
    sizes = {a["file"]: a["size_bytes"] for a in report["artifacts"]}
    for name in (layout.INT8_TFLITE, layout.FLOAT32_TFLITE):
        assert sizes[name] == (tiny_export.dist / name).stat().st_size
    (minute,) = report["memory"].values()
    assert minute["audio_seconds"] == 60.0 and minute["windows"] == 1 + (960000 - 15600) // 7680
    assert 0 < minute["rss_after_load_mib"] <= minute["peak_rss_mib"]
    goals = report["goals"]
    assert len(goals) == 3 + len(end_to_end.RECORDINGS)
    for g in goals:
        assert isinstance(g["met"], bool) or g["not_applicable"]


def test_markdown_has_every_section(bench_run):
    _, printed, report, _ = bench_run
    for heading in ("Per-patch latency", "int8 throughput", "Preprocessing", "End to end"):
        assert f"## {heading}" in printed
    for row in [*report["latency_ms"], *report["ratios"], *report["preprocessing"]]:
        assert f"| {row} |" in printed
    assert all(f"| {name} |" in printed for name in end_to_end.RECORDINGS)
    assert "| 1 minute |" in printed and "## Goals" in printed
    assert printed.splitlines()[2] == "A tiny model." and report["note"] == "A tiny model."


def test_without_dist_exports_the_model_first(tiny_export, monkeypatch, capsys):  # noqa: F811
    calls = {}

    def fake_export(model, out, formats, log):
        calls["export"] = (model, formats)
        shutil.copytree(tiny_export.dist, out)

    def fake_run(dist, to_tflite, model, **kwargs):
        calls["run"] = sorted(p.name for p in Path(dist).iterdir())
        return {"report": True}

    monkeypatch.setattr("edge_ser.export.exporter.export", fake_export)
    monkeypatch.setattr(bench, "run", fake_run)
    monkeypatch.setattr(bench, "to_markdown", lambda report: "table\n")
    assert main(["bench", "--model", str(tiny_export.model_dir)]) == 0
    assert calls["export"] == (tiny_export.model_dir, ("tflite-int8", "tflite-float32"))
    assert layout.INT8_TFLITE in calls["run"] and layout.MANIFEST_JSON in calls["run"]
    assert capsys.readouterr().out == "table\n"


def test_bad_arguments(tmp_path, capsys):
    assert main(["bench", str(tmp_path / "missing")]) == 2
    assert main(["bench", str(tmp_path), "--seconds", "0"]) == 2
    assert "error:" in capsys.readouterr().err

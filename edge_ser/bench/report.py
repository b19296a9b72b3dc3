"""The bench report as Markdown tables."""

from __future__ import annotations

from edge_ser.bench.end_to_end import STAGES
from edge_ser.bench.latency import tflite_row
from edge_ser.bench.machine import isa_text
from edge_ser.bench.probes import BASELINE_PROBE, CEILING_PROBE


def to_markdown(report: dict) -> str:
    """Render a report as Markdown tables."""
    m, t, probes = report["machine"], report["int8_throughput"], report["reference_models"]
    int8_ms = report["latency_ms"][tflite_row("int8", 1)]["median_ms"]
    float32_ms = report["latency_ms"][tflite_row("float32", 1)]["median_ms"]
    versions = ", ".join(f"{k} {v}" for k, v in report["versions"].items())
    s = report["settings"]
    lines = [
        "# edge-ser benchmark",
        "",
        *([report["note"], ""] if report.get("note") else []),
        f"Model `{report['model']['model_id']}`. Machine: {m['cpu']}, {m['cores']} cores, "
        f"{m['clock_ghz']:g} GHz ({m['clock_source']}); vector extensions: {isa_text(m)}. "
        f"{versions}.",
        "",
        f"## Per-patch latency ({s['warmup']} warm-up calls, {s['repeats']} timed)",
        "",
        "| runtime | median ms | p90 ms |",
        "|---|---:|---:|",
        *(
            f"| {name} | {row['median_ms']:.3f} | {row['p90_ms']:.3f} |"
            for name, row in report["latency_ms"].items()
        ),
        "",
        "| ratio of median latencies | x |",
        "|---|---:|",
        *(f"| {name} | {value:.2f} |" for name, value in report["ratios"].items()),
        "",
        "## int8 throughput",
        "",
        f"{t['macs_per_patch']:,} multiply-accumulates per patch. On 1 thread the int8 model "
        f"achieves **{t['achieved_gmacs']:.1f} GMAC/s = {t['fraction_of_matmul_probe']:.1%} of "
        "the matrix-multiplication probe's int8 rate** in this run "
        f"({t['matmul_probe_gmacs']:.1f} GMAC/s), and {t['fraction_of_peak']:.1%} of the core's "
        f"int8 peak of {t['peak_gmacs']:.1f} GMAC/s; float32 achieves "
        f"{t['float32_gmacs']:.1f} GMAC/s = {t['float32_fraction_of_matmul_probe']:.1%} of the "
        "probe's float32 rate.",
        "",
        f"Peaks from the vector extensions, at {m['clock_ghz']:g} GHz: {t['assumption']} "
        f"(int8 {t['peak_gmacs']:.1f}, float32 {t['float32_peak_gmacs']:.1f} GMAC/s). The "
        f"probe itself reaches {t['matmul_probe_gmacs'] / t['peak_gmacs']:.1%} of the int8 peak "
        "(above 100%: the core runs faster than the clock read).",
        "",
        "Reference models, randomly initialised, converted and timed the same way in this "
        "run (1 thread):",
        "",
        "| model | parameters | MAC per patch | int8 ms | float32 ms | int8 GMAC/s | "
        "float32 / int8 |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| this model | {t['parameters']:,} | {t['macs_per_patch']:,} | {int8_ms:.3f} | "
        f"{float32_ms:.3f} | {t['achieved_gmacs']:.1f} | {float32_ms / int8_ms:.2f} |",
        *(
            f"| {name} | {p['parameters']:,} | {p['macs']:,} | {p['int8_ms']:.3f} | "
            f"{p['float32_ms']:.3f} | {p['int8_gmacs']:.1f} | {p['float32_over_int8']:.2f} |"
            for name, p in probes.items()
        ),
        "",
        f"This model's int8 file runs **{probes[BASELINE_PROBE]['int8_ms'] / int8_ms:.1f}x** "
        "faster than the baseline CNN's. The matrix-multiplication probe is the most int8 "
        "kernels gain over float32 ones on this CPU: float32 / int8 = "
        f"**{probes[CEILING_PROBE]['float32_over_int8']:.2f}x** at best for any model here.",
        "",
        "## Preprocessing (log-mel, one thread)",
        "",
        "| pipeline | ms per second of audio | x real time |",
        "|---|---:|---:|",
        *(
            f"| {name} | {row['ms_per_audio_second']:.3f} | {row['x_real_time']:.0f} |"
            for name, row in report["preprocessing"].items()
        ),
        "",
        "## End to end (one thread)",
        "",
        "`Recognizer.predict_file` on synthetic speech (decode, resample to 16 kHz, log-mel, "
        "windows through the int8 model), and each stage timed on its own:",
        "",
        "| recording | seconds | windows | predict_file ms | x real time | "
        + " | ".join(f"{stage} ms" for stage in STAGES)
        + " |",
        "|---|---:|---:|---:|---:|" + "---:|" * len(STAGES),
        *(
            f"| {name} | {e['audio_seconds']:g} | {e['windows']} | {1e3 * e['median_s']:.1f} | "
            f"**{e['x_real_time']:.0f}** | "
            + " | ".join(f"{1e3 * e['stage_seconds'][stage]:.1f}" for stage in STAGES)
            + " |"
            for name, e in report["end_to_end"].items()
        ),
        "",
        "## Artifacts",
        "",
        "| file | format | precision | bytes |",
        "|---|---|---|---:|",
        *(
            f"| {a['file']} | {a['format']} | {a['precision']} | {a['size_bytes']:,} |"
            for a in report["artifacts"]
        ),
        "",
        "## Memory (`predict_file` with the int8 model in a fresh process)",
        "",
        "| recording | windows | RSS after load MiB | peak RSS MiB | wall s |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {name} | {r['windows']} | {r['rss_after_load_mib']:.1f} | "
            f"{r['peak_rss_mib']:.1f} | {r['wall_s']:.1f} |"
            for name, r in report["memory"].items()
        ),
        "",
        "## Goals",
        "",
        *goals_table(report["goals"]),
    ]
    return "\n".join(lines) + "\n"


def goals_table(goals: list[dict]) -> list[str]:
    """The goals as Markdown table lines: met, not met, or not applicable with the reason."""
    met = {True: "yes", False: "no"}
    return [
        "| goal | measured | met |",
        "|---|---:|---|",
        *(
            f"| {g['goal']} | {g['value']} | "
            f"{met.get(g['met']) or 'not applicable here: ' + g['not_applicable']} |"
            for g in goals
        ),
    ]

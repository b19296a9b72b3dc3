"""The project's performance goals, checked against a bench report.

A goal that this CPU's kernels cannot reach even on pure matrix multiplication (the
matrix-multiplication probe of the same run) is hardware-bound here: when it is not met it
is reported as not applicable, with the reason, instead of as a failure.
"""

from __future__ import annotations

from edge_ser.bench.probes import CEILING_PROBE

GOAL_INT8_SPEEDUP = 2.5
GOAL_PEAK_FRACTION = 0.5
GOAL_REAL_TIME = 1000.0
GOAL_MEMORY_GROWTH = 1.1  # 1-hour peak RSS at most this multiple of the 1-minute one


def goal(name: str, value: str, met: bool, hardware_bound: str = "") -> dict:
    """A goal row; ``met`` is ``None`` and ``not_applicable`` the reason when a goal that is
    not met is ``hardware_bound`` on this CPU."""
    if met or not hardware_bound:
        return {"goal": name, "value": value, "met": met}
    return {"goal": name, "value": value, "met": None, "not_applicable": hardware_bound}


def goals(report: dict) -> list[dict]:
    """The project's performance goals, the measured value and whether each is met."""
    speedup = report["ratios"]["float32 / int8 TFLite (1 thread)"]
    t = report["int8_throughput"]
    ceiling = report["reference_models"][CEILING_PROBE]
    probe_speedup = ceiling["float32_over_int8"]
    probe_of_peak = ceiling["int8_gmacs"] / t["peak_gmacs"]
    rows = [
        goal(
            f"int8 TFLite >= {GOAL_INT8_SPEEDUP:g}x faster than float32 TFLite (1 thread)",
            f"{speedup:.2f}x",
            speedup >= GOAL_INT8_SPEEDUP,
            f"int8 kernels gain at most {probe_speedup:.2f}x over float32 on this CPU "
            "(matrix-multiplication probe)"
            if probe_speedup < GOAL_INT8_SPEEDUP
            else "",
        ),
        goal(
            f"int8 >= {GOAL_PEAK_FRACTION:.0%} of the core's int8 peak",
            f"{t['fraction_of_peak']:.1%}",
            t["fraction_of_peak"] >= GOAL_PEAK_FRACTION,
            f"the matrix-multiplication probe itself reaches {probe_of_peak:.1%} of the "
            f"{report['machine']['peak']['isa']} peak"
            if probe_of_peak < GOAL_PEAK_FRACTION
            else "",
        ),
        goal(
            f"int8 >= {GOAL_PEAK_FRACTION:.0%} of the matrix-multiplication probe's int8 rate",
            f"{t['fraction_of_matmul_probe']:.1%}",
            t["fraction_of_matmul_probe"] >= GOAL_PEAK_FRACTION,
        ),
        *(
            goal(
                f"predict >= {GOAL_REAL_TIME:g}x real time on one core ({name})",
                f"{e2e['x_real_time']:.0f}x",
                e2e["x_real_time"] >= GOAL_REAL_TIME,
            )
            for name, e2e in report["end_to_end"].items()
        ),
    ]
    memory = report["memory"]
    if "1 minute" in memory and "1 hour" in memory:
        growth = memory["1 hour"]["peak_rss_mib"] / memory["1 minute"]["peak_rss_mib"]
        rows.append(
            goal(
                f"memory flat in file length (1-hour peak RSS <= "
                f"{GOAL_MEMORY_GROWTH:g}x the 1-minute one)",
                f"{growth:.3f}x",
                growth <= GOAL_MEMORY_GROWTH,
            )
        )
    return rows

"""The project's performance goals, checked against a bench report."""

from __future__ import annotations

GOAL_INT8_SPEEDUP = 2.5
GOAL_PEAK_FRACTION = 0.5
GOAL_REAL_TIME = 1000.0
GOAL_MEMORY_GROWTH = 1.1  # 1-hour peak RSS at most this multiple of the 1-minute one


def goals(report: dict) -> list[dict]:
    """The project's performance goals, the measured value and whether it is met."""
    rows = [
        {
            "goal": f"int8 TFLite >= {GOAL_INT8_SPEEDUP:g}x faster than float32 TFLite (1 thread)",
            "value": f"{report['ratios']['float32 / int8 TFLite (1 thread)']:.2f}x",
            "met": report["ratios"]["float32 / int8 TFLite (1 thread)"] >= GOAL_INT8_SPEEDUP,
        },
        {
            "goal": f"int8 >= {GOAL_PEAK_FRACTION:.0%} of the core's int8 peak",
            "value": f"{report['int8_throughput']['fraction_of_peak']:.1%}",
            "met": report["int8_throughput"]["fraction_of_peak"] >= GOAL_PEAK_FRACTION,
        },
        *(
            {
                "goal": f"predict >= {GOAL_REAL_TIME:g}x real time on one core ({name})",
                "value": f"{e2e['x_real_time']:.0f}x",
                "met": e2e["x_real_time"] >= GOAL_REAL_TIME,
            }
            for name, e2e in report["end_to_end"].items()
        ),
    ]
    memory = report["memory"]
    if "1 minute" in memory and "1 hour" in memory:
        growth = memory["1 hour"]["peak_rss_mib"] / memory["1 minute"]["peak_rss_mib"]
        rows.append(
            {
                "goal": f"memory flat in file length (1-hour peak RSS <= "
                f"{GOAL_MEMORY_GROWTH:g}x the 1-minute one)",
                "value": f"{growth:.3f}x",
                "met": growth <= GOAL_MEMORY_GROWTH,
            }
        )
    return rows

"""The machine a benchmark runs on: CPU model, cores, vector extensions, clock, libraries."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from pathlib import Path

INT8_MACS_PER_CYCLE = 64
FALLBACK_CLOCK_GHZ = 2.45
PEAK_ASSUMPTION = (
    "AMD EPYC Zen 3 with AVX2 (no AVX-512 / VNNI): 2 x 256-bit vpmaddubsw-class ops per cycle "
    f"= {INT8_MACS_PER_CYCLE} int8 MAC per cycle per core"
)


def machine() -> dict:
    """CPU model, cores, AVX2/AVX-512 flags and the clock used for the int8 peak."""
    model, flags, clock_mhz = platform.processor() or platform.machine(), set(), None
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            key, _, value = (part.strip() for part in line.partition(":"))
            if key == "model name":
                model = value
            elif key == "flags":
                flags = set(value.split())
            elif key == "cpu MHz" and clock_mhz is None:
                clock_mhz = float(value)
    source = "/proc/cpuinfo 'cpu MHz'"
    if clock_mhz is None:
        clock_mhz, source = _lscpu_max_mhz(), "lscpu 'CPU max MHz'"
    if clock_mhz is None:
        clock_mhz, source = FALLBACK_CLOCK_GHZ * 1e3, "assumed (no clock reading available)"
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "avx2": "avx2" in flags,
        "avx512_or_vnni": any(f.startswith("avx512") or "vnni" in f for f in flags),
        "clock_ghz": round(clock_mhz / 1e3, 3),
        "clock_source": source,
        "system": f"{platform.system()} {platform.machine()}",
    }


def _lscpu_max_mhz() -> float | None:
    try:
        output = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    for line in output.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "CPU max MHz":
            return float(value)
    return None


def library_versions(*packages: str) -> dict[str, str]:
    """Python's version and that of each installed distribution of ``packages``."""
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for package in packages:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    return versions

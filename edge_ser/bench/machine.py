"""The machine a benchmark runs on: CPU model, cores, vector extensions, clock, libraries.

The vector extensions (ISA) come from ``/proc/cpuinfo`` (x86 ``flags``, Arm ``Features``;
on macOS from ``sysctl hw.optional``). The best one sets the core's int8 and float32 peak
multiply-accumulates per cycle (``PEAKS``), an assumption the report states beside it.
"""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

FALLBACK_CLOCK_GHZ = 2.45
# Extension -> its /proc/cpuinfo flag, in the order the report lists them.
ISA_FLAGS = {
    "AVX2": "avx2",
    "AVX-512": "avx512f",
    "AVX-512 VNNI": "avx512_vnni",
    "AVX-VNNI": "avx_vnni",
    "AMX": "amx_int8",
    "NEON": "asimd",
    "NEON dot-product": "asimddp",
}
# macOS ``sysctl hw.optional`` keys of the same extensions.
SYSCTL_FLAGS = {
    "hw.optional.avx2_0": "avx2",
    "hw.optional.avx512f": "avx512f",
    "hw.optional.avx512vnni": "avx512_vnni",
    "hw.optional.neon": "asimd",
    "hw.optional.arm.FEAT_DotProd": "asimddp",
}


@dataclass(frozen=True)
class Peak:
    """Multiply-accumulates per cycle per core that an extension allows, and why."""

    isa: str
    int8_macs_per_cycle: int
    float32_macs_per_cycle: int
    basis: str


# Best first: the first extension the CPU has sets the peak.
PEAKS = (
    Peak(
        "AMX",
        1024,
        32,
        "AMX tile multiply: a 16x64 by 64x16 int8 TDPBSSD every 16 cycles = 1024 int8 MAC "
        "per cycle; float32 on 2 x 512-bit FMA = 32 MAC per cycle",
    ),
    Peak(
        "AVX-512 VNNI",
        128,
        32,
        "2 x 512-bit VPDPBUSD per cycle = 128 int8 MAC per cycle; "
        "2 x 512-bit FMA = 32 float32 MAC per cycle",
    ),
    Peak(
        "AVX-512",
        128,
        32,
        "2 x 512-bit VPMADDUBSW-class ops per cycle = 128 int8 MAC per cycle; "
        "2 x 512-bit FMA = 32 float32 MAC per cycle",
    ),
    Peak(
        "AVX-VNNI",
        64,
        16,
        "2 x 256-bit VPDPBUSD per cycle = 64 int8 MAC per cycle; "
        "2 x 256-bit FMA = 16 float32 MAC per cycle",
    ),
    Peak(
        "AVX2",
        64,
        16,
        "2 x 256-bit VPMADDUBSW-class ops per cycle = 64 int8 MAC per cycle; "
        "2 x 256-bit FMA = 16 float32 MAC per cycle",
    ),
    Peak(
        "NEON dot-product",
        32,
        8,
        "2 x 128-bit SDOT per cycle = 32 int8 MAC per cycle; "
        "2 x 128-bit FMLA = 8 float32 MAC per cycle",
    ),
    Peak(
        "NEON",
        16,
        8,
        "2 x 128-bit SMLAL-class ops per cycle = 16 int8 MAC per cycle; "
        "2 x 128-bit FMLA = 8 float32 MAC per cycle",
    ),
)
SCALAR_PEAK = Peak("no vector extension", 1, 1, "scalar: 1 int8 and 1 float32 MAC per cycle")
# AMD Zen 4 and older (family 25 and below) run a 512-bit op as two 256-bit halves.
HALF_WIDTH_AVX512 = "; this core runs 512-bit ops as two 256-bit halves, so half of that"


@dataclass(frozen=True)
class CpuInfo:
    """What ``/proc/cpuinfo`` says about the first core."""

    model: str
    flags: frozenset[str]
    clock_mhz: float | None = None
    vendor: str = ""
    family: int | None = None


def parse_cpuinfo(text: str) -> CpuInfo:
    """The first core's model, feature flags, clock, vendor and family in ``/proc/cpuinfo``
    text (x86 or Arm)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, _, value = (part.strip() for part in line.partition(":"))
        fields.setdefault(key, value)
    family = fields.get("cpu family", "")
    clock = fields.get("cpu MHz", "")
    return CpuInfo(
        model=fields.get("model name") or fields.get("Hardware") or "",
        flags=frozenset((fields.get("flags") or fields.get("Features") or "").split()),
        clock_mhz=float(clock) if clock else None,
        vendor=fields.get("vendor_id", ""),
        family=int(family) if family.isdigit() else None,
    )


def isa(cpu: CpuInfo) -> list[str]:
    """The vector extensions of ``ISA_FLAGS`` that the CPU has."""
    return [name for name, flag in ISA_FLAGS.items() if flag in cpu.flags]


def peak(cpu: CpuInfo) -> Peak:
    """The int8 and float32 peak per cycle of the CPU's best extension."""
    extensions = isa(cpu)
    best = next((p for p in PEAKS if p.isa in extensions), SCALAR_PEAK)
    half_width = cpu.vendor == "AuthenticAMD" and cpu.family is not None and cpu.family <= 25
    if half_width and best.isa.startswith("AVX-512"):
        return Peak(
            best.isa,
            best.int8_macs_per_cycle // 2,
            best.float32_macs_per_cycle // 2,
            best.basis + HALF_WIDTH_AVX512,
        )
    return best


def read_cpuinfo() -> CpuInfo:
    """This machine's CPU: ``/proc/cpuinfo``, or on macOS ``sysctl``."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        cpu = parse_cpuinfo(cpuinfo.read_text())
        if cpu.model:
            return cpu
        return CpuInfo(platform.processor() or platform.machine(), cpu.flags, cpu.clock_mhz)
    flags = frozenset(
        flag for key, flag in SYSCTL_FLAGS.items() if _command_value(["sysctl", "-n", key]) == "1"
    )
    model = _command_value(["sysctl", "-n", "machdep.cpu.brand_string"])
    return CpuInfo(model or platform.processor() or platform.machine(), flags)


def machine(cpu: CpuInfo | None = None) -> dict:
    """CPU model, cores, vector extensions, the clock and the peak per cycle of ``cpu``
    (default: this machine's).

    The clock is this machine's maximum (``lscpu``) where the system reports one, else
    the ``cpu MHz`` of ``/proc/cpuinfo`` (of ``cpu``), a momentary reading.
    """
    clock_mhz, source = None, ""
    if cpu is None:
        cpu = read_cpuinfo()
        clock_mhz, source = _lscpu_max_mhz(), "lscpu 'CPU max MHz'"
    if clock_mhz is None and cpu.clock_mhz is not None:
        clock_mhz, source = cpu.clock_mhz, "/proc/cpuinfo 'cpu MHz'"
    if clock_mhz is None:
        clock_mhz, source = FALLBACK_CLOCK_GHZ * 1e3, "assumed (no clock reading available)"
    return {
        "cpu": cpu.model,
        "cores": os.cpu_count(),
        "isa": isa(cpu),
        "peak": asdict(peak(cpu)),
        "clock_ghz": round(clock_mhz / 1e3, 3),
        "clock_source": source,
        "system": f"{platform.system()} {platform.machine()}",
    }


def isa_text(info: dict) -> str:
    """The extensions of a ``machine()`` dict, e.g. ``AVX2, AVX-512 (no AVX-VNNI, AMX)``."""
    found = info["isa"]
    family = ("NEON",) if any(name.startswith("NEON") for name in found) else ("AVX", "AMX")
    missing = [n for n in ISA_FLAGS if n not in found and n.startswith(family)]
    text = ", ".join(found) or "no vector extension found"
    return text + (f" (no {', '.join(missing)})" if missing else "")


def _command_value(command: list[str]) -> str | None:
    try:
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _lscpu_max_mhz() -> float | None:
    for line in (_command_value(["lscpu"]) or "").splitlines():
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

"""edge_ser.bench.machine: vector extensions and peaks from /proc/cpuinfo text."""

from __future__ import annotations

import pytest

from edge_ser.bench import machine

# Abridged /proc/cpuinfo of one core of each machine (first core only; flags as the kernel
# prints them).
XEON_SAPPHIRE_RAPIDS = """\
processor	: 0
vendor_id	: GenuineIntel
cpu family	: 6
model		: 143
model name	: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
cpu MHz		: 2699.998
flags		: fpu sse sse2 ssse3 sse4_1 sse4_2 avx f16c fma avx2 avx512f avx512dq avx512cd \
avx512bw avx512vl avx512_bf16 avx512vbmi avx512_vbmi2 avx512_vnni avx512_bitalg \
avx512_vpopcntdq avx_vnni amx_bf16 amx_tile amx_int8 avx512_fp16
"""
EPYC_ZEN3 = """\
vendor_id	: AuthenticAMD
cpu family	: 25
model		: 1
model name	: AMD EPYC 7B13
cpu MHz		: 2449.998
flags		: fpu sse sse2 ssse3 sse4_1 sse4_2 avx f16c fma avx2 bmi2 vaes vpclmulqdq
"""
EPYC_ZEN4 = """\
vendor_id	: AuthenticAMD
cpu family	: 25
model		: 17
model name	: AMD EPYC
cpu MHz		: 2596.134
flags		: fpu sse sse2 avx fma avx2 avx512f avx512dq avx512cd avx512bw avx512vl \
avx512_bf16 avx512vbmi avx512_vnni
"""
GRAVITON2 = """\
processor	: 0
BogoMIPS	: 243.75
Features	: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm \
lrcpc dcpop asimddp ssbs
CPU implementer	: 0x41
CPU part	: 0xd0c
"""


def test_xeon_with_avx512_vnni_and_amx():
    cpu = machine.parse_cpuinfo(XEON_SAPPHIRE_RAPIDS)
    assert cpu.model == "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz"
    assert cpu.clock_mhz == pytest.approx(2699.998)
    assert machine.isa(cpu) == ["AVX2", "AVX-512", "AVX-512 VNNI", "AVX-VNNI", "AMX"]
    peak = machine.peak(cpu)
    assert (peak.isa, peak.int8_macs_per_cycle, peak.float32_macs_per_cycle) == ("AMX", 1024, 32)
    info = machine.machine(cpu)
    assert info["clock_ghz"] == 2.7 and info["peak"]["int8_macs_per_cycle"] == 1024
    assert machine.isa_text(info) == "AVX2, AVX-512, AVX-512 VNNI, AVX-VNNI, AMX"


def test_zen3_has_avx2_only():
    cpu = machine.parse_cpuinfo(EPYC_ZEN3)
    assert machine.isa(cpu) == ["AVX2"]
    assert machine.peak(cpu) == next(p for p in machine.PEAKS if p.isa == "AVX2")
    assert (
        machine.isa_text(machine.machine(cpu)) == "AVX2 (no AVX-512, AVX-512 VNNI, AVX-VNNI, AMX)"
    )


def test_zen4_runs_avx512_at_half_width():
    cpu = machine.parse_cpuinfo(EPYC_ZEN4)
    assert machine.isa(cpu) == ["AVX2", "AVX-512", "AVX-512 VNNI"]
    peak = machine.peak(cpu)
    assert (peak.isa, peak.int8_macs_per_cycle, peak.float32_macs_per_cycle) == (
        "AVX-512 VNNI",
        64,
        16,
    )
    assert "two 256-bit halves" in peak.basis


def test_arm_neon_dot_product():
    cpu = machine.parse_cpuinfo(GRAVITON2)
    assert machine.isa(cpu) == ["NEON", "NEON dot-product"]
    assert machine.peak(cpu).int8_macs_per_cycle == 32
    assert machine.isa_text(machine.machine(cpu)) == "NEON, NEON dot-product"


def test_no_vector_extension():
    cpu = machine.parse_cpuinfo("model name\t: toy\nflags\t\t: fpu\n")
    assert machine.isa(cpu) == [] and machine.peak(cpu) == machine.SCALAR_PEAK


def test_the_maximum_clock_comes_before_the_momentary_one(monkeypatch):
    monkeypatch.setattr(machine, "read_cpuinfo", lambda: machine.parse_cpuinfo(EPYC_ZEN3))
    monkeypatch.setattr(machine, "_lscpu_max_mhz", lambda: 3500.0)
    info = machine.machine()
    assert (info["clock_ghz"], info["clock_source"]) == (3.5, "lscpu 'CPU max MHz'")
    monkeypatch.setattr(machine, "_lscpu_max_mhz", lambda: None)
    info = machine.machine()
    assert (info["clock_ghz"], info["clock_source"]) == (2.45, "/proc/cpuinfo 'cpu MHz'")


def test_this_machine():
    info = machine.machine()
    assert info["cores"] >= 1 and info["clock_ghz"] > 0
    assert set(info["isa"]) <= set(machine.ISA_FLAGS)
    assert info["peak"]["int8_macs_per_cycle"] >= 1

"""edge_ser.bench.memory: peak resident memory of this process and of a fresh one."""

from __future__ import annotations

from edge_ser.bench import memory


def test_peak_rss_of_this_process():
    assert memory.peak_rss_bytes() > 10 * 1024 * 1024

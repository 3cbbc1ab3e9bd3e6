"""How many cores indexing may embed with: those no other work is using at the moment it starts."""
from __future__ import annotations

import os
import time
from pathlib import Path

SAMPLE_S = 0.2  # how long the CPUs are watched: long enough to see a busy one, short beside any embedding
_STAT = Path("/proc/stat")


def embedding_threads(asked: int) -> int:
    """`asked`, or with 0 the cores this process may use that are idle now, at least one."""
    if asked > 0:
        return asked
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set(range(os.cpu_count() or 1))
    try:
        before = _STAT.read_text()
        time.sleep(SAMPLE_S)
        free = idle_cores(before, _STAT.read_text(), cpus)
    except OSError:  # no /proc (not Linux): the load average says less, and later
        free = len(cpus) - os.getloadavg()[0]
    return max(1, min(len(cpus), round(free)))


def idle_cores(before: str, after: str, cpus: set[int]) -> float:
    """Idle time between two readings of /proc/stat, in cores, over the CPUs this process may use.
    (The 1-minute load average still counts work that ended a minute ago: right after one build,
    it called a free machine busy.)"""
    def times(stat: str) -> dict[int, tuple[int, int]]:
        out = {}
        for line in stat.splitlines():
            name, *fields = line.split()
            if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cpus:
                values = [int(v) for v in fields[:8]]  # user nice system idle iowait irq softirq steal
                out[int(name[3:])] = (values[3] + values[4], sum(values))
        return out

    start, end = times(before), times(after)
    idle = 0.0
    for cpu, (idle_after, total_after) in end.items():
        idle_before, total_before = start.get(cpu, (idle_after, total_after))
        if total_after > total_before:
            idle += (idle_after - idle_before) / (total_after - total_before)
    return idle

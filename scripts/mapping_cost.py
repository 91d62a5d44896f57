"""What comment mapping costs a process: memory to load, and time per comment.

Loads the mapper of each bundled framework (the example vectors come from the cache `make setup`
fills), then files 100 dev comments one at a time and prints the median and 95th percentile
time (wall clock, and CPU: on shared busy cores the CPU time is the steadier figure), and the
memory before and after: resident (RSS, what the bench adds up), and of it the process's own
(anonymous: not shared with any other process; the encoders' weights and the example vectors
are mapped from files, which every process shares in the page cache). README, "How comments
are filed", has the figures.

    .venv/bin/python scripts/mapping_cost.py
"""
from __future__ import annotations

import sys
import time

import numpy as np

from framework.loader import framework_files
from framework.mapping import mapper_for
from mapping_eval import load

COMMENTS = 100


def memory() -> str:
    """Resident and anonymous (own) memory, in MB."""
    kb = {}
    with open("/proc/self/smaps_rollup", encoding="ascii") as rollup:
        for line in rollup:
            fields = line.split()
            if fields[0] in ("Rss:", "Anonymous:"):
                kb[fields[0]] = int(fields[1])
    return f"RSS {kb['Rss:'] / 1024:.0f} MB (own {kb['Anonymous:'] / 1024:.0f})"


def main() -> int:
    before = memory()
    started = time.perf_counter()
    for framework_id in framework_files():
        mapper_for(framework_id)
    loaded = time.perf_counter() - started
    after_load = memory()
    items = load("dev")[:COMMENTS]
    times, cpu = [], []
    for item in items:
        started, started_cpu = time.perf_counter(), time.process_time()
        mapper_for(item.framework).file(item.text)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    print(f"mapping: load {loaded:.1f} s, {before} -> {after_load}, "
          f"after {len(items)} comments {memory()}; per comment p50 {np.percentile(times, 50):.1f} ms, "
          f"p95 {np.percentile(times, 95):.1f} ms; CPU p50 {np.percentile(cpu, 50):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

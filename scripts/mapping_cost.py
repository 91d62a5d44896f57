"""What comment mapping costs a process: memory to load, and time per comment.

Loads the mapper of each bundled framework (the example vectors come from the cache `make setup`
fills), then files 100 dev comments one at a time and prints the median and 95th percentile
time (wall clock, and CPU: on shared busy cores the CPU time is the steadier figure), and the
resident memory before and after. README, "How comments are filed", has the figures.

    .venv/bin/python -m scripts.mapping_cost
"""
from __future__ import annotations

import resource
import sys
import time

import numpy as np

from framework.loader import framework_files
from framework.mapping import mapper_for
from scripts.mapping_eval import load

COMMENTS = 100


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    before = rss_mb()
    started = time.perf_counter()
    for framework_id in framework_files():
        mapper_for(framework_id)
    loaded = time.perf_counter() - started
    after_load = rss_mb()
    items = load("dev")[:COMMENTS]
    times, cpu = [], []
    for item in items:
        started, started_cpu = time.perf_counter(), time.process_time()
        mapper_for(item.framework).file(item.text)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    print(f"mapping: load {loaded:.1f} s, RSS {before:.0f} -> {after_load:.0f} MB (+{after_load - before:.0f}), "
          f"after {len(items)} comments {rss_mb():.0f} MB; per comment p50 {np.percentile(times, 50):.1f} ms, "
          f"p95 {np.percentile(times, 95):.1f} ms; CPU p50 {np.percentile(cpu, 50):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

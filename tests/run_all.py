"""`make test`: the whole suite as two pytest runs at once, one per core of a 2-core machine.

One run takes the tests that drive the real servers (marked `servers` by tests/conftest.py: Rasa,
the action server, the web app and Chromium start once, in that run); the other takes the rest,
which need only this process. Either alone leaves a core mostly idle: the servers' tests wait on
Rasa, the rest compute. (pytest-xdist's `loadgroup` would say the same, but under pytest 9 it no
longer keeps a group on one worker, so the servers would start in each.)

The other run's output is shown live; the servers' run is shown whole when it ends, so the two
never interleave. Exits non-zero when either run fails. Arguments go to both runs.
"""
from __future__ import annotations

import signal
import subprocess
import sys
import tempfile

PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]


def main(argv: list[str]) -> int:
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as servers_log:
        servers = subprocess.Popen([*PYTEST, "-m", "servers", *argv], stdout=servers_log, stderr=subprocess.STDOUT)
        try:
            print("== the tests without the servers", flush=True)
            rest = subprocess.run([*PYTEST, "-m", "not servers", *argv]).returncode
            print("== the tests that drive the servers (Rasa, the action server, the web app, Chromium)", flush=True)
            servers.wait()
        finally:
            if servers.poll() is None:  # interrupted: let it stop its servers as Ctrl-C would
                servers.send_signal(signal.SIGINT)
                servers.wait()
        servers_log.seek(0)
        sys.stdout.write(servers_log.read())
    failed = [name for name, code in (("without the servers", rest), ("with the servers", servers.returncode))
              if code not in (0, 5)]  # 5: no test selected (a run given only one kind of test)
    if failed:
        print(f"FAILED: the tests {' and '.join(failed)}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

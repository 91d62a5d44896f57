"""`make test` runs the servers' tests and the rest at once (tests/run_all.py): a failure in either
must fail the whole run, and each test must run exactly once."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MARKS_SERVERS = '''
import pytest

def pytest_collection_modifyitems(items):
    for item in items:
        if "server" in item.name:
            item.add_marker(pytest.mark.servers)
'''


def run_all(folder: Path, server_test_passes: bool, other_test_passes: bool) -> subprocess.CompletedProcess:
    (folder / "conftest.py").write_text(MARKS_SERVERS)
    (folder / "test_both.py").write_text(
        f"def test_with_a_server():\n    assert {server_test_passes}\n\n"
        f"def test_without_one():\n    assert {other_test_passes}\n"
    )
    return subprocess.run([sys.executable, "-m", "tests.run_all", str(folder)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("server_test_passes", "other_test_passes", "failed"), [
    (True, True, None),
    (False, True, "with the servers"),
    (True, False, "without the servers"),
    (False, False, "without the servers and with the servers"),
])
def test_a_failure_in_either_run_fails_make_test(tmp_path, server_test_passes, other_test_passes, failed):
    done = run_all(tmp_path, server_test_passes, other_test_passes)
    assert done.returncode == (0 if failed is None else 1), done.stdout
    assert done.stdout.count("1 deselected") == 2  # each run ran one test and left the other
    if failed:
        assert f"FAILED: the tests {failed}" in done.stdout

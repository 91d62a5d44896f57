"""The `heard` command: clear one-line errors, never a traceback; safe to re-run."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from framework.db import repository as repo
from framework.db.engine import make_engine, make_session_factory

ROOT = Path(__file__).resolve().parents[2]


def heard(*args: str, env: dict | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=ROOT, env={**os.environ, **(env or {})}, input=stdin,
        capture_output=True, text=True, timeout=120,
    )


@pytest.fixture
def var_env(tmp_path):
    return {"HEARD_VAR_DIR": str(tmp_path), "HEARD_DATABASE_URL": f"sqlite:///{tmp_path / 'heard.db'}"}


def test_framework_check_passes_the_bundled_frameworks():
    result = heard("framework", "check")
    assert result.returncode == 0, result.stderr
    assert "york.yml: ok (york: 7 areas" in result.stdout
    assert "shropshire.yml: ok (shropshire: 7 areas" in result.stdout


def test_framework_check_names_file_and_line_of_a_mistake(tmp_path):
    bad = tmp_path / "council.yml"
    bad.write_text((ROOT / "framework/frameworks/york.yml").read_text().replace('symbol: "1F6E1"', 'symbol: "nope"'))
    result = heard("framework", "check", str(bad))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{bad}:" in result.stderr and "symbol" in result.stderr


def test_an_unreachable_database_is_one_clear_line(tmp_path):
    result = heard("db", "upgrade", env={"HEARD_VAR_DIR": str(tmp_path),
                                         "HEARD_DATABASE_URL": "postgresql+psycopg://heard:s3cret@127.0.0.1:1/heard"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "s3cret" not in result.stderr and "HEARD_DATABASE_URL" in result.stderr


def test_a_wrong_database_url_is_one_clear_line(tmp_path):
    result = heard("db", "upgrade", env={"HEARD_DATABASE_URL": "not a url"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_demo_creates_once_and_changes_nothing_when_run_again(var_env):
    assert heard("db", "upgrade", env=var_env).returncode == 0
    first = heard("demo", env=var_env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("password: ") == 4
    codes = [line.split()[0] for line in first.stdout.splitlines() if line.startswith("  ") and "(" in line and "set)" in line]
    assert len(codes) == 3 and all(len(c) == 9 and c[4] == "-" for c in codes)
    engine = make_engine(var_env["HEARD_DATABASE_URL"])
    with make_session_factory(engine)() as db:  # the demo officer sees the demo school's council
        officer = repo.find_staff_by_email(db, "council@demo.heard.invalid")
        assert officer.council_id is not None and officer.council_id == repo.find_school_by_urn(db, "DEMO01").council_id
    engine.dispose()
    again = heard("demo", env=var_env)
    assert again.returncode == 0
    assert "password" not in again.stdout.replace("passwords", "")
    assert "nothing changed" in again.stdout
    assert all(code in again.stdout for code in codes)


def test_db_downgrade_and_upgrade_round_trip(var_env):
    assert heard("db", "upgrade", env=var_env).returncode == 0
    down = heard("db", "downgrade", "base", env=var_env)
    assert down.returncode == 0, down.stderr
    assert heard("db", "upgrade", env=var_env).returncode == 0

"""What `heard run` starts for the settings and the cores it finds (the running stack is
tests/integration/test_supervision.py)."""
from __future__ import annotations

import configparser
import subprocess

from bot.supervision import (
    DEFAULT_REDIS_URL,
    balancer_config,
    for_this_machine,
    missing_programs,
    write_supervisor_config,
)
from framework.settings import Settings, get_settings
from tests.unit.staff_site import closed_port


def programs(settings: Settings) -> list[str]:
    config = configparser.ConfigParser(interpolation=None)
    config.read(write_supervisor_config(settings))
    return [section.removeprefix("program:") for section in config.sections() if section.startswith("program:")]


def test_one_of_each_needs_no_balancer_and_no_redis(tmp_path):
    settings = for_this_machine(Settings(var_dir=tmp_path, rasa_workers=1, action_workers=1, web_workers=1))
    assert settings.redis_url == "" and balancer_config(settings) is None
    assert programs(settings) == ["actions", "rasa", "web"]


def test_the_counts_follow_the_cores(tmp_path, monkeypatch):
    monkeypatch.setattr("framework.settings.cores", lambda: 8)
    settings = for_this_machine(Settings(var_dir=tmp_path))
    assert (settings.rasa_workers, settings.action_workers, settings.web_workers) == (8, 2, 2)
    assert settings.redis_url == DEFAULT_REDIS_URL


def test_rasas_in_memory_store_cannot_be_shared_so_one_rasa(tmp_path, monkeypatch):
    monkeypatch.setattr("framework.settings.cores", lambda: 4)
    settings = for_this_machine(Settings(var_dir=tmp_path, rasa_tracker_url="memory"))
    assert (settings.rasa_workers, settings.web_workers, settings.redis_url) == (1, 1, "")


def test_several_of_a_kind_sit_behind_haproxy_with_redis_started_when_none_answers(tmp_path):
    settings = for_this_machine(Settings(
        var_dir=tmp_path, rasa_workers=2, action_workers=1, web_workers=2, port=18000,
        rasa_url="http://127.0.0.1:15000", redis_url=f"redis://127.0.0.1:{closed_port()}/0"))
    assert programs(settings) == ["redis", "actions", "rasa-1", "rasa-2", "web-1", "web-2", "haproxy"]
    balancer = (tmp_path / "haproxy.cfg").read_text()
    assert "server rasa-1 127.0.0.1:15001" in balancer and "server rasa-2 127.0.0.1:15002" in balancer
    assert "server web-2 127.0.0.1:18002" in balancer and "backend actions" not in balancer
    assert "timeout check 10s" in balancer  # a server slow to answer its check is busy, not dead
    checked = subprocess.run(["haproxy", "-c", "-f", str(tmp_path / "haproxy.cfg")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_without_haproxy_installed_heard_run_says_so_and_runs_one_of_each(tmp_path, monkeypatch, capsys):
    from bot import cli

    monkeypatch.setenv("PATH", str(tmp_path))  # a machine without HAProxy or Redis
    monkeypatch.setenv("HEARD_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("HEARD_RASA_WORKERS", "2")
    monkeypatch.setenv("HEARD_REDIS_URL", f"redis://127.0.0.1:{closed_port()}/0")
    several = for_this_machine(Settings())
    assert missing_programs(several) == ["haproxy", "redis-server"]
    started = []
    monkeypatch.setattr("os.execve", lambda path, argv, env: started.append(env))
    get_settings.cache_clear()
    try:
        cli.main(["run"])
    finally:
        get_settings.cache_clear()
    assert "haproxy, redis-server not installed, so one of each process runs" in capsys.readouterr().err
    assert (started[0]["HEARD_RASA_WORKERS"], started[0]["HEARD_WEB_WORKERS"]) == ("1", "1")
    assert started[0]["HEARD_REDIS_URL"] == ""  # nothing to start it with: one Rasa keeps its locks itself
    assert "lock_store" not in (tmp_path / "endpoints.yml").read_text()


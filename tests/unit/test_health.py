"""/healthz and the banner staff see when a part of Heard is down (here Rasa and the action
server: nothing listens on their ports)."""
from __future__ import annotations

import time

from fastapi.testclient import TestClient

from framework.db.engine import make_engine, make_session_factory
from framework.settings import Settings, get_settings
from tests.databases import migrate_fresh
from tests.stack import app_client
from bot.app import create_app
from tests.unit.staff_site import StaffSite, closed_port, staff_settings_env

BANNER = "Part of Heard is not working"


def test_healthz_reports_each_part(sqlite_url, tmp_path):
    migrate_fresh(sqlite_url)
    settings = Settings(var_dir=tmp_path, database_url=sqlite_url, rasa_url=f"http://127.0.0.1:{closed_port()}",
                        action_server_url=f"http://127.0.0.1:{closed_port()}", outbox_every_seconds=0)
    with app_client(settings) as client:
        health = client.get("/healthz")
    assert health.status_code == 503
    body = health.json()
    assert body["ok"] is False and body["database"]["ok"] is True
    assert body["rasa"]["ok"] is False and body["action_server"]["ok"] is False
    assert "not reachable" in body["rasa"]["detail"]


def test_every_staff_page_says_when_a_part_is_down(sqlite_url, tmp_path, monkeypatch):
    migrate_fresh(sqlite_url)
    staff_settings_env(monkeypatch, sqlite_url, tmp_path, HEARD_HEALTH_EVERY_SECONDS="0.2",
                       HEARD_RASA_URL=f"http://127.0.0.1:{closed_port()}",
                       HEARD_ACTION_SERVER_URL=f"http://127.0.0.1:{closed_port()}")
    engine = make_engine(sqlite_url)
    try:
        with TestClient(create_app()) as client:
            site = StaffSite(client.app, client, make_session_factory(engine))
            assert BANNER not in client.get("/staff/login").text  # not told to anyone signed out
            senco = site.account("senco", site.school("Oak School"))
            assert site.sign_in(senco).status_code == 200
            deadline = time.monotonic() + 60
            while BANNER not in (page := client.get("/staff/pupils").text) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert f"{BANNER}: the chat engine (Rasa), the chat&#39;s action server." in page
            assert "the database" not in page
    finally:
        engine.dispose()
        get_settings.cache_clear()

"""What a person on the same machine or network, or a browser, could reach or read (issue 17,
finding 7): the API's documentation pages, the security headers every response carries, read-back
audio of a child's words, the permissions of the files that hold children's words and secrets,
and errors that would log a child's words."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from accessibility.tts import ESPEAK_VOICE, LANGUAGE, audio_key
from bot.chat.gateway import speech_cache
from bot.chat.prompts import fixed_prompts
from bot.processes import write_rasa_endpoints
from framework.db.engine import make_engine, upgrade
from framework.settings import Settings
from tests.databases import migrate_fresh
from tests.stack import app_client

CHILD_WORDS = "my step dad shouts at me every night"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def umask(value: int) -> Iterator[None]:
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def settings_in(tmp_path: Path, **extra) -> Settings:
    var = tmp_path / "var"
    return Settings(var_dir=var, database_url=f"sqlite:///{var / 'heard.db'}", outbox_every_seconds=0, **extra)


@pytest.fixture
def app_settings(tmp_path) -> Settings:
    settings = settings_in(tmp_path)
    migrate_fresh(settings.resolved_database_url)
    return settings


# ---- the documentation pages --------------------------------------------------------------------


def test_the_documentation_pages_are_off_unless_debugging_but_the_contract_is_always_served(app_settings):
    with app_client(app_settings) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/redoc").status_code == 404
        assert "/api/sessions" in client.get("/openapi.json").json()["paths"]
    with app_client(app_settings.model_copy(update={"debug": True})) as client:
        assert client.get("/docs").status_code == 200
        assert client.get("/redoc").status_code == 200


# ---- headers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/openapi.json", "/api/audio/nothing.mp3", "/staff/login", "/static/widget/widget.js"])
def test_every_response_asks_for_https_and_refuses_camera_microphone_and_location(app_settings, path):
    with app_client(app_settings) as client:
        response = client.get(path)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    policy = response.headers["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in policy


@pytest.mark.parametrize("embed_origins", ["", "https://school.example, http://127.0.0.1:8001"])
def test_only_the_chat_page_may_be_framed_and_only_by_the_sites_in_heard_embed_origins(app_settings, embed_origins):
    settings = app_settings.model_copy(update={"embed_origins": Settings(embed_origins=embed_origins).embed_origins})
    with app_client(settings) as client:
        policies = {path: client.get(path).headers["Content-Security-Policy"] for path in (
            "/", "/tablet", "/staff/login", "/openapi.json", "/healthz", "/widget/embed.js", "/static/widget/widget.js",
            "/symbols/1F4AC.svg")}
        script = client.get("/widget/embed.js")
    chat = policies.pop("/").split("; ")
    assert [d for d in chat if d.startswith("frame-ancestors")] == [
        "frame-ancestors https://school.example http://127.0.0.1:8001" if embed_origins else "frame-ancestors 'none'"]
    for path, policy in policies.items():
        assert "frame-ancestors 'none'" in policy.split("; "), path
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")


@pytest.mark.parametrize("origins", ["https://school.example/voice", "https://*.example", "school.example",
                                     "https://school.example;script-src *", "https://school.example 'unsafe-inline'"])
def test_heard_embed_origins_takes_only_origins(origins):
    with pytest.raises(ValueError, match="HEARD_EMBED_ORIGINS"):
        Settings(embed_origins=origins)


def test_read_back_audio_of_a_childs_words_is_never_cached_but_fixed_prompts_are(app_settings):
    speech = speech_cache(app_settings.var_dir / "audio")
    personal = speech.key_for(f"You said: \u201c{CHILD_WORDS}\u201d")
    prompt = speech.key_for(sorted(fixed_prompts())[0])
    with app_client(app_settings) as client:
        child = client.get(f"/api/audio/{personal}.mp3")
        fixed = client.get(f"/api/audio/{prompt}.mp3")
    assert child.status_code == 200 and child.headers["content-type"] == "audio/mpeg"
    assert child.headers["Cache-Control"] == "private, no-store"
    assert fixed.status_code == 200 and fixed.headers["Cache-Control"].startswith("public")


# ---- /healthz -------------------------------------------------------------------------------------


def test_healthz_names_no_database_address_or_error(tmp_path):
    settings = settings_in(tmp_path).model_copy(update={"database_url": "postgresql://heard:s3cret-pw@127.0.0.1:1/heard_db"})
    with app_client(settings) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == {"ok": False, "detail": "not working: see the web app's log"}
    for secret in ("127.0.0.1:1", "heard_db", "heard:", "s3cret", "refused", "postgresql"):
        assert secret not in response.text


def test_healthz_checks_the_database_through_the_apps_one_engine(app_settings, monkeypatch):
    from bot import app as web_app
    from framework.db import engine as engines

    made = []
    real = engines.make_engine
    monkeypatch.setattr(web_app, "make_engine", lambda *args: made.append(args) or real(*args))
    monkeypatch.setattr(engines, "make_engine", lambda *args: made.append(args) or real(*args))
    with app_client(app_settings) as client:
        for _ in range(3):
            assert client.get("/healthz").json()["database"] == {"ok": True, "detail": "ok"}
    assert len(made) == 1  # the app's, at start-up


# ---- files ---------------------------------------------------------------------------------------


def test_var_and_the_files_holding_childrens_words_and_secrets_are_private_whatever_the_umask(tmp_path):
    settings = settings_in(tmp_path)
    with umask(0o022):
        settings.resolved_rasa_token
        settings.resolved_action_server_token
        settings.resolved_secret_key
        upgrade(settings.resolved_database_url)
        endpoints = write_rasa_endpoints(settings)
        speech_cache(settings.var_dir / "audio").key_for(CHILD_WORDS)
    assert mode(settings.var_dir) == 0o700
    assert mode(settings.var_dir / "audio") == 0o700
    for name in ("rasa-token", "action-server-token", "secret-key", "heard.db", "rasa-conversations.db"):
        assert mode(settings.var_dir / name) == 0o600, name
    assert mode(endpoints) == 0o600
    assert not [p.name for p in settings.var_dir.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_an_existing_sqlite_database_is_made_private(tmp_path):
    database = tmp_path / "old.db"
    database.write_bytes(b"")
    database.chmod(0o644)
    make_engine(f"sqlite:///{database}").dispose()
    assert mode(database) == 0o600


def test_the_heard_command_makes_what_it_creates_private(tmp_path):
    var = tmp_path / "var"
    env = {**os.environ, "HEARD_VAR_DIR": str(var), "HEARD_DATABASE_URL": ""}
    with umask(0o022):
        done = subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade"], env=env,
                              capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    made = [var, *var.rglob("*")]
    assert {str(p.relative_to(tmp_path)): oct(mode(p) & 0o077) for p in made} == {str(p.relative_to(tmp_path)): "0o0" for p in made}


# ---- errors --------------------------------------------------------------------------------------


def test_a_failed_statement_never_carries_a_childs_words_into_an_error_or_log(db_url):
    migrate_fresh(db_url)
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection, pytest.raises(DBAPIError) as raised:
            connection.execute(text("INSERT INTO no_such_table (words) VALUES (:words)"), {"words": CHILD_WORDS})
    finally:
        engine.dispose()
    assert CHILD_WORDS not in str(raised.value)
    assert "no_such_table" in str(raised.value)  # the statement itself is still there to debug

"""The three processes of Heard, described once.

`heard run` supervises them with supervisord (bot/supervision.py); the integration tests start the same commands,
so what is tested is what runs.
"""
from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from sqlalchemy.engine import make_url

from framework.private_files import private_file
from framework.settings import PROJECT_ROOT, Settings, get_settings

RASA_BIN = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
RASA_PYTHON = RASA_BIN.parent / "python"
IN_MEMORY = "memory"  # HEARD_RASA_TRACKER_URL for Rasa's in-memory tracker store


@dataclass(frozen=True)
class Process:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    health_url: str = ""

    def environ(self, settings: Settings | None = None) -> dict[str, str]:
        """The process's environment: ours, the settings as HEARD_* variables, then its own."""
        return {**os.environ, **(settings or get_settings()).as_env(), **self.env}


def _port(url: str) -> int:
    return urlparse(url).port or 80


def _port_after(url: str, number: int) -> int:
    """The port of server `number` (1, 2, ...) of several: the ports just above the one in `url`,
    where the load balancer listens."""
    return _port(url) + number


def _address(url: str, number: int) -> str:
    """Where server `number` answers: `url` itself for the only one, else on this machine."""
    return url if not number else f"http://127.0.0.1:{_port_after(url, number)}"


def rasa_process(settings: Settings | None = None, model: Path | None = None, *, number: int = 0) -> Process:
    """Rasa on the port of HEARD_RASA_URL, or (`number` 1, 2, ...) one of several behind the balancer."""
    settings = settings or get_settings()
    model = model or settings.model_dir / "heard.tar.gz"
    port = _port_after(settings.rasa_url, number)
    return Process(
        name=f"rasa-{number}" if number else "rasa",
        argv=[
            # rasa_server/: `rasa run` with its secret from the environment, never on this command line.
            str(RASA_PYTHON), "-m", "rasa_server", "run",
            "--enable-api",
            # Rasa's REST channel trusts any sender id: it must never listen beyond this machine.
            "--interface", "127.0.0.1",
            "--port", str(port),
            "--model", str(model),
            "--endpoints", str(settings.var_dir / "endpoints.yml"),
            "--credentials", str(PROJECT_ROOT / "credentials.yml"),
        ],
        env={"RASA_TELEMETRY_ENABLED": "false", "HEARD_RASA_TOKEN": settings.resolved_rasa_token},
        health_url=_address(settings.rasa_url, number) + "/",
    )


def action_process(settings: Settings | None = None, *, number: int = 0) -> Process:
    settings = settings or get_settings()
    port = _port_after(settings.action_server_url, number)
    return Process(
        name=f"actions-{number}" if number else "actions",
        # rasa-sdk's server, answering only Rasa and only on this machine (actions/server.py).
        argv=[sys.executable, "-m", "actions.server", "--port", str(port)],
        health_url=_address(settings.action_server_url, number) + "/health",
    )


def web_process(settings: Settings | None = None, *, number: int = 0) -> Process:
    settings = settings or get_settings()
    # One of several listens on this machine only, behind the balancer on HEARD_HOST:HEARD_PORT.
    host, port = (settings.host, settings.port) if not number else ("127.0.0.1", settings.port + number)
    return Process(
        name=f"web-{number}" if number else "web",
        argv=[
            sys.executable, "-m", "uvicorn", "bot.app:create_app", "--factory",
            "--host", host, "--port", str(port),
            # No websockets here; and uvicorn cannot load the websockets version rasa-sdk pins.
            "--ws", "none",
        ],
        # Several web workers would each send the same queued emails: the first one sends them.
        env={"HEARD_OUTBOX_EVERY_SECONDS": "0"} if number > 1 else {},
        health_url=f"http://{host}:{port}/healthz",
    )


def several(make: Callable[..., Process], count: int, settings: Settings) -> list[Process]:
    """One process on the configured port, or `count` of them on the ports above it."""
    return [make(settings)] if count == 1 else [make(settings, number=n) for n in range(1, count + 1)]


def rasa_servers(settings: Settings) -> list[Process]:
    return several(rasa_process, settings.resolved_rasa_workers, settings)


def action_servers(settings: Settings) -> list[Process]:
    return several(action_process, settings.resolved_action_workers, settings)


def web_workers(settings: Settings) -> list[Process]:
    return several(web_process, settings.resolved_web_workers, settings)


def rasa_endpoints(settings: Settings) -> dict:
    """Rasa's endpoints: our action server (with its key), the SQL tracker store ("memory": Rasa's
    own in-memory store) and, when set, the Redis lock store."""
    endpoints: dict = {"action_endpoint": {
        "url": f"{settings.action_server_url}/webhook",
        "headers": {"Authorization": settings.action_server_authorization},
    }}
    if settings.resolved_rasa_tracker_url != IN_MEMORY:
        tracker = make_url(settings.resolved_rasa_tracker_url)
        # Rasa's SQLAlchemy 1.4 picks its own driver; its endpoint config calls the host "url".
        endpoints["tracker_store"] = {"type": "SQL", "dialect": tracker.get_backend_name(), "db": tracker.database} | {
            key: value for key, value in (("url", tracker.host), ("port", tracker.port),
                                          ("username", tracker.username), ("password", tracker.password))
            if value is not None}
        query = dict(tracker.query)
        if tracker.get_backend_name() == "sqlite":
            # Several Rasa servers write one SQLite file: one waits for another's write, up to 30 s.
            query.setdefault("timeout", "30")
        if query:
            endpoints["tracker_store"]["query"] = query
    if settings.redis_url:
        lock = urlparse(settings.redis_url)
        endpoints["lock_store"] = {
            "type": "redis", "url": lock.hostname or "127.0.0.1", "port": lock.port or 6379,
            "db": int(lock.path.strip("/") or 0), "key_prefix": "heard",
        } | ({"password": lock.password} if lock.password else {})
    return endpoints


def write_rasa_endpoints(settings: Settings | None = None) -> Path:
    """Rasa reads its endpoints from a file; make it from our settings (JSON is valid YAML)."""
    settings = settings or get_settings()
    endpoints = rasa_endpoints(settings)
    tracker = endpoints.get("tracker_store", {})
    if tracker.get("dialect") == "sqlite" and tracker.get("db"):
        conversations = private_file(Path(tracker["db"]))  # it holds the children's words
        # Rasa opens it in SQLite's default mode, where each save waits for every other server's
        # reads to end and blocks them while it commits, holding up the saver's whole event loop.
        # In WAL mode (which the file itself keeps) reads and a write go on side by side.
        with closing(sqlite3.connect(conversations)) as db:
            db.execute("PRAGMA journal_mode=WAL")
    path = private_file(settings.var_dir / "endpoints.yml")  # it holds the action server's key, maybe passwords
    path.write_text(
        "# Written by Heard from HEARD_* settings; edits here are overwritten.\n" + json.dumps(endpoints, indent=2) + "\n",
        encoding="utf-8",
    )
    return path


def all_processes(settings: Settings | None = None) -> list[Process]:
    """Every Heard process `heard run` starts (the balancer and Redis, when needed, are
    bot/supervision.py's)."""
    settings = settings or get_settings()
    write_rasa_endpoints(settings)
    return [*action_servers(settings), *rasa_servers(settings), *web_workers(settings)]

"""Every setting in one place. Each is read from an environment variable prefixed HEARD_.

The web app, the action server and the `heard` command all import `get_settings()`,
so one variable changes all three.
"""
from __future__ import annotations

import os
import secrets
import tempfile
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from framework.private_files import private_dir

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HEARD_", extra="ignore")

    # Where state lives. SQLite under var/ by default; PostgreSQL in production.
    var_dir: Path = PROJECT_ROOT / "var"
    database_url: str = Field(default="", description="SQLAlchemy URL; empty means sqlite file var/heard.db")

    # The web app.
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    # Where staff sign in, for the links in emails to staff (e.g. a school network's own address);
    # empty: the web app's own staff site, PUBLIC_URL/staff.
    staff_url: str = ""
    secret_key: str = Field(default="", description="Signs staff sessions; generated into var/ when empty")
    # Serves the API's documentation pages (/docs, /redoc); /openapi.json is always served.
    debug: bool = False
    # The sites that may show the chat in a frame (the embed snippet, /widget/embed.js): origins
    # such as "https://school.example https://localoffer.council.example", separated by spaces or
    # commas. Empty: no site may frame any page of Heard.
    embed_origins: str = ""

    # The Rasa engine and action server: local only, never exposed.
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = Field(default="", description="Signs the web app's requests to Rasa; generated into var/ when empty")
    action_server_url: str = "http://127.0.0.1:5055"
    action_server_token: str = Field(default="", description="Rasa's key to the action server; generated into var/ when empty")
    model_dir: Path = PROJECT_ROOT / "models"
    # Rasa's conversation memory (its SQL tracker store), so a restart forgets no conversation.
    # Empty: a SQLite file var/rasa-conversations.db. Several Rasa servers share a PostgreSQL URL;
    # "memory" keeps them in Rasa's memory only (lost on restart; the gateway then resumes from our DB).
    rasa_tracker_url: str = ""
    # Redis for Rasa's lock store, needed when several Rasa servers share conversations
    # (e.g. redis://127.0.0.1:6379/1). Empty: one Rasa server with its own in-memory locks; with
    # several, `heard run` uses the Redis at DEFAULT_REDIS_URL, starting one there if none answers.
    redis_url: str = ""
    # How many Rasa servers, action servers and web app workers `heard run` starts; 0: chosen
    # from this machine's cores (Rasa is the most work: one each; the others one per 4 cores).
    # Several of a kind sit behind HAProxy on the port of their URL, on the ports just above it.
    rasa_workers: int = Field(default=0, ge=0)
    action_workers: int = Field(default=0, ge=0)
    web_workers: int = Field(default=0, ge=0)

    # Symbols (OpenMoji, installed from npm by setup).
    openmoji_dir: Path = PROJECT_ROOT / "node_modules" / "openmoji"

    # A chat token stops working this long after the check-in's last message ("come back with
    # your code"), and at once when the check-in is finished or stopped.
    chat_idle_minutes: int = 60

    # Check-ins (answers, comments, transcript) are erased this many days after they were last
    # touched; 0 keeps them until a pupil's data is erased. Safeguarding alerts are never erased.
    retention_days: int = 1095

    # Mail to safeguarding leads.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "heard@localhost"
    # How often the web app sends queued emails; 0 leaves it to `heard outbox send` (e.g. from cron).
    outbox_every_seconds: float = 10.0
    # How often the web app checks each part, so staff pages can say when one is down; 0: never.
    health_every_seconds: float = 5.0

    @field_validator("embed_origins")
    @classmethod
    def _origins_only(cls, value: str) -> str:
        return " ".join(embed_origin(part) for part in value.replace(",", " ").split())

    @property
    def resolved_embed_origins(self) -> tuple[str, ...]:
        return tuple(self.embed_origins.split())

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'heard.db'}"

    @property
    def resolved_staff_url(self) -> str:
        return (self.staff_url or f"{self.public_url}/staff").rstrip("/")

    @property
    def resolved_rasa_tracker_url(self) -> str:
        return self.rasa_tracker_url or f"sqlite:///{self.var_dir / 'rasa-conversations.db'}"

    @property
    def resolved_rasa_workers(self) -> int:
        return self.rasa_workers or cores()

    @property
    def resolved_action_workers(self) -> int:
        return self.action_workers or max(1, cores() // 4)

    @property
    def resolved_web_workers(self) -> int:
        return self.web_workers or max(1, cores() // 4)

    @property
    def resolved_rasa_token(self) -> str:
        return self.rasa_token or self._stored_secret("rasa-token")

    @property
    def resolved_action_server_token(self) -> str:
        return self.action_server_token or self._stored_secret("action-server-token")

    @property
    def action_server_authorization(self) -> str:
        """The Authorization header Rasa sends with each action call (endpoints.yml) and the action server checks."""
        return f"Bearer {self.resolved_action_server_token}"

    @property
    def resolved_secret_key(self) -> str:
        return self.secret_key or self._stored_secret("secret-key")

    def as_env(self) -> dict[str, str]:
        """These settings as HEARD_* variables, so a child process sees exactly them."""
        env = {}
        for name, value in self.model_dump().items():
            if isinstance(value, bool):
                value = "true" if value else "false"
            env[f"HEARD_{name.upper()}"] = str(value)
        return env

    def _stored_secret(self, name: str) -> str:
        """A random secret made once and kept in var/, so every process on this machine shares it."""
        path = self.var_dir / name
        if not path.exists():
            # Written whole into a private temporary file, then linked into place: two processes
            # starting at once make one secret, and no process reads a half-written one.
            fd, written = tempfile.mkstemp(dir=private_dir(self.var_dir), prefix=f".{name}-")
            try:
                with os.fdopen(fd, "w", encoding="ascii") as fh:
                    fh.write(secrets.token_urlsafe(32))
                os.link(written, path)
            except FileExistsError:
                pass
            finally:
                os.unlink(written)
        return path.read_text(encoding="ascii").strip()


def embed_origin(text: str) -> str:
    """One web origin, "https://host[:port]", as a browser writes it; anything more (a path, a
    wildcard, a quote that would end the Content-Security-Policy's list) is refused with why."""
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        port = -1
    plain = (parts.scheme in ("http", "https") and parts.hostname and port != -1 and parts.path in ("", "/")
             and not (parts.query or parts.fragment or parts.username or parts.password)
             and all(c.isalnum() or c in ".-[]:" for c in parts.hostname))
    if not plain:
        raise ValueError(f"HEARD_EMBED_ORIGINS: {text!r} is not an origin like https://school.example")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def cores() -> int:
    """The cores this process may run on (fewer than the machine's in a container limited to some)."""
    return len(os.sched_getaffinity(0))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

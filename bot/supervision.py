"""`heard run`: supervisord keeps every process of Heard running, as many as the cores serve.

supervisord (PyPI `supervisor`) restarts a process the moment it dies, whatever killed it,
and stops them all together on Ctrl-C. Its configuration is made here from the same process
descriptions the integration tests start (bot/processes.py), into var/supervisord.conf, so
one settings change reaches every process. Each process writes its output to var/log/NAME.log;
supervisord itself says on the terminal what started, died and came back.

Several Rasa servers (or action servers, or web workers) sit behind HAProxy (Debian's
`haproxy`), configured here into var/haproxy.cfg: Rasa servers by conversation, so one
conversation stays on one server while it is up, the web workers by check-in token. They share
Rasa's SQL tracker store and a Redis lock store (Rasa's own), so any of them can take any
conversation; `heard run` starts a Redis of its own only when none answers at HEARD_REDIS_URL.
"""
from __future__ import annotations

import configparser
import io
import shlex
import shutil
import sys
from pathlib import Path

from urllib.parse import urlparse

import redis

from bot.processes import IN_MEMORY, Process, action_servers, all_processes, rasa_servers, web_workers
from framework.settings import PROJECT_ROOT, Settings, get_settings

SUPERVISORD = [sys.executable, "-m", "supervisor.supervisord"]
SUPERVISORCTL = [sys.executable, "-m", "supervisor.supervisorctl"]
LOG_BYTES = "10MB"  # each process's log is rotated at this size, keeping LOG_BACKUPS old ones
LOG_BACKUPS = 3
# The Redis `heard run` uses when several processes share conversations and HEARD_REDIS_URL is empty.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/1"
LOCAL_HOSTS = ("127.0.0.1", "localhost")


def for_this_machine(settings: Settings) -> Settings:
    """The settings every process of `heard run` gets: the worker counts chosen, and Redis
    named when several processes share conversations."""
    # Rasa's in-memory tracker store cannot be shared: one Rasa server then.
    rasa = 1 if settings.resolved_rasa_tracker_url == IN_MEMORY else settings.resolved_rasa_workers
    chosen = settings.model_copy(update={
        "rasa_workers": rasa, "action_workers": settings.resolved_action_workers,
        "web_workers": settings.resolved_web_workers,
    })
    if (chosen.rasa_workers > 1 or chosen.web_workers > 1) and not chosen.redis_url:
        chosen = chosen.model_copy(update={"redis_url": DEFAULT_REDIS_URL})
    return chosen


def missing_programs(settings: Settings) -> list[str]:
    """The Debian programs these settings need that this machine lacks (scripts/system-deps installs them)."""
    needed = ["haproxy"] if balancer_config(settings) else []
    if settings.redis_url and not redis_answers(settings.redis_url):
        needed.append("redis-server")
    return [program for program in needed if shutil.which(program) is None]


def one_of_each(settings: Settings) -> Settings:
    return settings.model_copy(update={"rasa_workers": 1, "action_workers": 1, "web_workers": 1})


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def redis_process(settings: Settings) -> Process | None:
    """A Redis of our own, when one is named and none answers there (on this machine only)."""
    if not settings.redis_url or redis_answers(settings.redis_url):
        return None
    where = urlparse(settings.redis_url)
    if where.hostname not in LOCAL_HOSTS:
        raise RuntimeError(f"Redis does not answer at HEARD_REDIS_URL ({where.hostname}:{where.port or 6379})")
    return Process("redis", [
        "redis-server", "--bind", "127.0.0.1", "--port", str(where.port or 6379),
        # It holds only Rasa's conversation locks and the check-in locks: nothing to keep on disk.
        "--save", "", "--appendonly", "no", "--dir", str(settings.var_dir),
    ])


def _behind(name: str, servers: list[Process], check: str) -> list[str]:
    return [f"backend {name}", *check.splitlines(),
            *(f"    server {p.name} {urlparse(p.health_url).netloc} check inter 1s fall 2 rise 1" for p in servers)]


def balancer_config(settings: Settings) -> str | None:
    """HAProxy in front of every kind of process that runs more than once; None if none does."""
    rasa, actions, web = rasa_servers(settings), action_servers(settings), web_workers(settings)
    sections = []
    if len(rasa) > 1:
        sections += [
            f"frontend rasa\n    bind 127.0.0.1:{urlparse(settings.rasa_url).port}",
            # Sticky by conversation: the sender in a message's body, or in /conversations/<id>/...
            "    option http-buffer-request",
            "    http-request set-var(txn.conversation) req.body,json_query('$.sender') if { path /webhooks/rest/webhook }",
            "    http-request set-var(txn.conversation) path,field(3,/) if { path_beg /conversations/ }",
            "    default_backend rasa",
            "\n".join(_behind("rasa", rasa, "    balance hash var(txn.conversation)\n    hash-type consistent\n"
                                              "    option httpchk GET /")),
        ]
    if len(actions) > 1:
        sections += [
            f"frontend actions\n    bind 127.0.0.1:{urlparse(settings.action_server_url).port}\n    default_backend actions",
            "\n".join(_behind("actions", actions, "    balance leastconn\n    option httpchk GET /health")),
        ]
    if len(web) > 1:
        sections += [
            f"frontend web\n    bind {settings.host}:{settings.port}",
            # The web app sees each young person's address (its rate limits count by address).
            "    option forwardfor\n    default_backend web",
            # Sticky by check-in: its messages meet in one process, one at a time.
            "\n".join(_behind("web", web, "    balance hdr(Authorization)\n    hash-type consistent")),
        ]
    if not sections:
        return None
    return "\n".join([
        "# Written by `heard run` from HEARD_* settings; edits here are overwritten.",
        "global\n    maxconn 4096",
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5m\n    timeout server 5m",
        # A dead server refuses the check's connection at once. A busy one (its one event loop
        # taken for a second by a class's turns) answers late: with the default 1 s it was taken
        # for dead, both Rasa servers at once, and turns were refused (503) or moved to the other.
        "    timeout check 10s",
        # A server that died since the last check: the request goes to another (never a reply lost:
        # only requests that could not connect are sent again). A new connection to the server for
        # each request (cheap on this machine), so none is sent down a dead server's old one.
        "    retries 3\n    option redispatch\n    option http-server-close",
        *sections,
    ]) + "\n"


def _literal(text: str) -> str:
    """supervisord expands %(name)s in its values; a literal % is written %%."""
    return text.replace("%", "%%")


def _program(process: Process, log_dir: Path) -> dict[str, str]:
    section = {
        "command": _literal(shlex.join(process.argv)),
        "directory": _literal(str(PROJECT_ROOT)),
        # Restarted whenever it exits, however; a process that cannot stay up for a second
        # (a port taken, a broken setting) is tried a few times, then reported FATAL.
        "autorestart": "true",
        "startsecs": "1",
        "startretries": "5",
        # A process's own children (e.g. Sanic workers) stop with it.
        "stopasgroup": "true",
        "killasgroup": "true",
        "stopwaitsecs": "20",
        "redirect_stderr": "true",
        "stdout_logfile": _literal(str(log_dir / f"{process.name}.log")),
        "stdout_logfile_maxbytes": LOG_BYTES,
        "stdout_logfile_backups": str(LOG_BACKUPS),
    }
    if process.env:
        section["environment"] = ",".join(f'{key}="{_literal(value)}"' for key, value in process.env.items())
    return section


def supervisor_config(settings: Settings, processes: list[Process]) -> str:
    var = settings.var_dir
    config = configparser.ConfigParser(interpolation=None)
    config["supervisord"] = {
        "nodaemon": "true",
        # supervisord's own news (started, died, restarted): to this log, and in the foreground
        # (nodaemon) to the terminal too.
        "logfile": _literal(str(var / "log" / "supervisord.log")),
        "pidfile": _literal(str(var / "supervisord.pid")),
        "childlogdir": _literal(str(var / "log")),
    }
    # The control socket (supervisorctl), readable only by the account running Heard.
    config["unix_http_server"] = {"file": _literal(str(socket_path(settings))), "chmod": "0700"}
    config["supervisorctl"] = {"serverurl": _literal(f"unix://{socket_path(settings)}")}
    config["rpcinterface:supervisor"] = {"supervisor.rpcinterface_factory": "supervisor.rpcinterface:make_main_rpcinterface"}
    for process in processes:
        config[f"program:{process.name}"] = _program(process, var / "log")
    text = io.StringIO()
    text.write("; Written by `heard run` from HEARD_* settings; edits here are overwritten.\n")
    config.write(text)
    return text.getvalue()


def socket_path(settings: Settings) -> Path:
    return settings.var_dir / "supervisor.sock"


def config_path(settings: Settings) -> Path:
    return settings.var_dir / "supervisord.conf"


def every_process(settings: Settings) -> list[Process]:
    """All `heard run` starts for these settings (see `for_this_machine`): Heard's processes,
    and HAProxy and Redis when needed."""
    processes = all_processes(settings)
    if balancer := balancer_config(settings):
        (settings.var_dir / "haproxy.cfg").write_text(balancer, encoding="utf-8")
        processes.append(Process("haproxy", ["haproxy", "-db", "-f", str(settings.var_dir / "haproxy.cfg")]))
    if own_redis := redis_process(settings):
        processes.insert(0, own_redis)
    return processes


def write_supervisor_config(settings: Settings | None = None) -> Path:
    settings = settings or get_settings()
    (settings.var_dir / "log").mkdir(parents=True, exist_ok=True)
    path = config_path(settings)
    path.write_text(supervisor_config(settings, every_process(settings)), encoding="utf-8")
    path.chmod(0o600)  # the commands carry Rasa's token
    return path

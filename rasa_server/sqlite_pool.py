"""Rasa's SQL tracker store keeps its SQLite connections open from one message to the next.

Rasa 3.6's SQLAlchemy (1.4) gives a SQLite file no connection pool: the store opened a new
connection for each read and each save, several a message, and opening and closing them took
about a twelfth of each Rasa server's busy time with a class of 50 (py-spy). `install()` has
Rasa make a SQLite file's engine with a pool, as SQLAlchemy 2.0 does by default; a connection
then serves any of Rasa's threads. Other databases (PostgreSQL has a pool already) and
in-memory SQLite are left as they were.

Written against Rasa 3.6.21; on any other Rasa version it changes nothing.
"""
from __future__ import annotations

import rasa.core.tracker_store as tracker_store
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

from rasa_server.patch import patch_rasa


def _pooled_for_sqlite_files(create_engine_kwargs):
    def engine_kwargs(url) -> dict:
        kwargs = create_engine_kwargs(url)
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            kwargs = {**kwargs, "poolclass": QueuePool, "connect_args": {"check_same_thread": False}}
        return kwargs
    return engine_kwargs


def install() -> None:
    patch_rasa(tracker_store, "create_engine_kwargs", _pooled_for_sqlite_files,
               "each read and save of a conversation in SQLite opens a new connection.")

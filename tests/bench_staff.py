"""`make bench`, part two: how long the staff pages take with a big school — 1,000 pupils
with 3 check-ins each (York's standard set, typed words on some answers, comments) — on
SQLite and on PostgreSQL. Each page is fetched through the real app (signed in, audited)
a number of times; prints p50 and p95 in milliseconds against the 300 ms aim.

    python -m tests.bench_staff [--pupils 1000] [--checkins 3] [--repeat 20] [--backend sqlite postgres]
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url

from bot.app import create_app
from bot.auth.passwords import hash_password
from bot.reports.council import term_start
from framework.db import repository as repo
from framework.db.engine import make_engine, make_session_factory, upgrade
from framework.db.models import Answer, Comment, ConsentDecision, Invite, Pupil, SurveySession, utcnow
from framework.loader import load_framework
from framework.settings import get_settings

AIM_MS = 300
POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PASSWORD = "benchmark staff password"
VALUES = ("yes", "yes", "sometimes", "no", "dont_know", "skipped")
WORDS = ("yeah kinda", "nah not really", "idk", "sometimes at school", "my teacher helps me 👍")


def seed(database_url: str, pupils: int, checkins: int) -> dict:
    """A school as big as the benchmark asks, written in bulk; returns ids to fetch pages for."""
    rng = random.Random(11)
    framework = load_framework("york")
    questions = framework.questions("children_young_people", "standard")
    sessions = make_session_factory(make_engine(database_url))
    with sessions.begin() as db:
        council = repo.create_council(db, "Benchmark Council")
        school = repo.create_school(db, "Benchmark Academy", council=council)
        other = repo.create_school(db, "Another School", council=council)
        repo.create_staff(db, "senco@bench.example", hash_password(PASSWORD), "senco", school)
        repo.create_staff(db, "council@bench.example", hash_password(PASSWORD), "la_officer", None, council)
        pupil_ids = []
        for target in (school, other):
            rows = [{"school_id": target.id, "pupil_ref": uuid.uuid4().hex[:24], "display_name": f"Pupil {i}",
                     "year_group": f"Year {7 + i % 5}", "class_name": f"{7 + i % 5}{'ABC'[i % 3]}",
                     "created_at": utcnow()} for i in range(pupils if target is school else pupils // 10)]
            ids = db.scalars(insert(Pupil).returning(Pupil.id), rows).all()
            if target is school:
                pupil_ids = list(ids)
        now = term_start(utcnow()) - timedelta(days=1)  # in the last whole term: the council view counts it
        session_ids = []
        for round_number in range(checkins):
            when = now - timedelta(days=365 * (checkins - 1 - round_number))
            invites = db.scalars(insert(Invite).returning(Invite.id), [
                {"code": uuid.uuid4().hex[:8].upper(), "pupil_id": p, "school_id": school.id, "framework_id": "york",
                 "perspective": "children_young_people", "question_set": "standard",
                 "expires_at": when + timedelta(days=28), "created_at": when} for p in pupil_ids]).all()
            ids = db.scalars(insert(SurveySession).returning(SurveySession.id), [
                {"invite_id": invite, "pupil_id": p, "framework_id": "york", "perspective": "children_young_people",
                 "question_set": "standard", "status": "finished", "input_mode": rng.choice(("tap", "type")),
                 "read_aloud": rng.random() < 0.3, "who_with": rng.choice(("alone", "with_support")),
                 "sender_id": uuid.uuid4().hex, "token_hash": uuid.uuid4().hex + uuid.uuid4().hex,
                 "started_at": when, "updated_at": when, "finished_at": when}
                for invite, p in zip(invites, pupil_ids)]).all()
            session_ids.extend(ids)
            answers = []
            for session_id in ids:
                for statement in questions:
                    typed = rng.random() < 0.2
                    answers.append({
                        "session_id": session_id, "statement_id": statement.id,
                        "area_id": framework.area_of(statement.id).id, "value": rng.choice(VALUES),
                        "words": rng.choice(WORDS) if typed else None, "method": "typed" if typed else "tapped",
                        "confidence": 0.9 if typed else 1.0, "read_aloud": False, "who_answered": "alone",
                        "created_at": when})
            db.execute(insert(Answer), answers)
            db.execute(insert(Comment), [
                {"session_id": s, "area_id": framework.areas[0].id,
                 "kind": "what_would_help", "text": "more time to answer", "created_at": when} for s in ids])
            db.execute(insert(ConsentDecision), [
                {"session_id": s, "audiences": ["school_family_and_council"], "decided_at": when} for s in ids])
    return {"pupil_ids": pupil_ids, "session_ids": session_ids[-len(pupil_ids):]}


def analyse(database_url: str) -> None:
    libpq = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute("ANALYZE")


def signed_in(client: TestClient, email: str) -> None:
    page = client.get("/staff/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post("/staff/login", data={"csrf_token": token, "email": email, "password": PASSWORD,
                                                  "next": "/staff"})
    assert response.status_code == 200, f"could not sign in as {email}"


def timed(client: TestClient, paths: list[str], repeat: int, before_each: Callable[[], None] = lambda: None) -> list[float]:
    took = []
    for i in range(repeat):
        path = paths[i % len(paths)]
        before_each()
        start = time.perf_counter()
        response = client.get(path)
        took.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, f"{path}: HTTP {response.status_code}"
    return took


def measure(backend: str, database_url: str, args) -> list[tuple[str, float, float]]:
    upgrade(database_url)
    started = time.perf_counter()
    ids = seed(database_url, args.pupils, args.checkins)
    if backend == "postgres":
        analyse(database_url)  # a live database has planner statistics; a bulk-loaded one needs them made
    print(f"  {backend}: seeded {args.pupils} pupils x {args.checkins} check-ins in {time.perf_counter() - started:.0f} s")
    os.environ["HEARD_DATABASE_URL"] = database_url
    os.environ["HEARD_OUTBOX_EVERY_SECONDS"] = "0"
    get_settings.cache_clear()
    rng = random.Random(5)
    pupils = rng.sample(ids["pupil_ids"], 10)
    checkins = rng.sample(ids["session_ids"], 10)
    pages = {
        "pupil list": ["/staff/pupils"],
        "pupil page": [f"/staff/pupils/{p}" for p in pupils],
        "voice summary": [f"/staff/checkins/{s}" for s in checkins],
        "change over time": [f"/staff/pupils/{p}/over-time" for p in pupils],
        "answers CSV": [f"/staff/pupils/{p}/answers.csv" for p in pupils],
        "profile PDF": [f"/staff/checkins/{s}/profile.pdf" for s in checkins],
    }
    results = []
    with TestClient(create_app()) as client:
        signed_in(client, "senco@bench.example")
        for name, paths in pages.items():
            timed(client, paths[:1], 1)  # warm: templates compiled, fonts loaded
            took = timed(client, paths, args.repeat)
            results.append((name, statistics.median(took), statistics.quantiles(took, n=20)[18]))
    with TestClient(create_app()) as client:
        signed_in(client, "council@bench.example")
        timed(client, ["/staff/council"], 1)
        took = timed(client, ["/staff/council"], args.repeat)
        results.append(("council view", statistics.median(took), statistics.quantiles(took, n=20)[18]))
        # In term time answers arrive between two views, and the web process counts everything again.
        took = timed(client, ["/staff/council"], args.repeat, before_each=one_more_answer(database_url, ids))
        results.append(("council, new answers", statistics.median(took), statistics.quantiles(took, n=20)[18]))
    return results


def one_more_answer(database_url: str, ids: dict) -> Callable[[], None]:
    """Each call changes an answer (a new row replacing the last) in a check-in the council view counts."""
    sessions = make_session_factory(make_engine(database_url))

    def record() -> None:
        with sessions.begin() as db:
            last = db.scalars(select(Answer).where(Answer.session_id == ids["session_ids"][0])
                              .order_by(Answer.id.desc()).limit(1)).one()
            last.superseded_at = utcnow()
            db.flush()
            kept = {c.key: getattr(last, c.key) for c in Answer.__table__.columns if c.key not in ("id", "superseded_at")}
            db.add(Answer(**{**kept, "replaces_id": last.id}))
    return record


def postgres_database() -> tuple[str, Callable[[], None]]:
    admin_url = make_url(POSTGRES_SERVER).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"heard_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return make_url(POSTGRES_SERVER).set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=1000)
    parser.add_argument("--checkins", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--backend", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"])
    args = parser.parse_args()
    print(f"\nStaff pages benchmark: {args.pupils} pupils x {args.checkins} check-ins (York standard set)")
    table = {}
    for backend in args.backend:
        if backend == "sqlite":
            url, drop = f"sqlite:///{Path(tempfile.mkdtemp(prefix='heard-bench-')) / 'heard.db'}", (lambda: None)
        else:
            url, drop = postgres_database()
        try:
            table[backend] = measure(backend, url, args)
        finally:
            drop()
    print(f"{'page':<22}" + "".join(f"{b + ' p50':>14}{b + ' p95':>14}" for b in table))
    names = [name for name, _, _ in next(iter(table.values()))]
    for i, name in enumerate(names):
        print(f"{name:<22}" + "".join(f"{table[b][i][1]:>14.0f}{table[b][i][2]:>14.0f}" for b in table))
    worst = max(p95 for rows in table.values() for _, _, p95 in rows)
    print(f"slowest p95 {worst:.0f} ms (aim <= {AIM_MS} ms)")


if __name__ == "__main__":
    main()

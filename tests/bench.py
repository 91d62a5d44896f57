"""`make bench`: simulated pupils do whole check-ins through Heard's chat API, then the same
turns go straight to Rasa's REST channel, so the cost of Heard's own work (storing,
screening, shaping messages) shows as a ratio. Prints p50/p95/p99 per turn, messages per
second, and the peak memory (RSS) of each process.

    python -m tests.bench [--pupils 50] [--think 3.0]

It starts what `heard run` would on this machine (one Rasa server per core behind HAProxy,
unless HEARD_RASA_WORKERS etc. say otherwise) on free local ports, with the same commands,
over a fresh SQLite database unless HEARD_DATABASE_URL is set.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.chat.gateway import rasa_authorization
from bot.supervision import every_process, for_this_machine
from framework.db import repository as repo
from framework.db.engine import make_engine, make_session_factory, upgrade
from framework.settings import Settings
from tests.stack import free_port, start, wait_until_healthy

START_TIMEOUT = 480


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    started: float = 0.0
    ended: float = 0.0

    def summary(self) -> dict:
        lat = sorted(self.latencies)
        q = statistics.quantiles(lat, n=100) if len(lat) >= 2 else [lat[0]] * 99
        return {
            "turns": len(lat), "errors": self.errors,
            "p50": q[49] * 1000, "p95": q[94] * 1000, "p99": q[98] * 1000,
            "per_second": len(lat) / max(self.ended - self.started, 1e-9),
        }


def next_payload(buttons: list[dict], kind: str | None, rng: random.Random) -> str | None:
    """What a pupil taps next: any answer for a question, otherwise the first button."""
    if not buttons:
        return None
    if kind == "question":
        return rng.choice(buttons)["payload"]
    return buttons[0]["payload"]


def _last_buttons_heard(messages: list[dict]) -> tuple[list[dict], str | None]:
    with_buttons = [m for m in messages if m.get("buttons")]
    if not with_buttons:
        return [], None
    return with_buttons[-1]["buttons"], with_buttons[-1].get("kind")


def _last_buttons_rasa(messages: list[dict]) -> tuple[list[dict], str | None]:
    buttons = [m["buttons"] for m in messages if m.get("buttons")]
    kinds = [m["custom"].get("kind") for m in messages if m.get("custom")]
    return (buttons[-1] if buttons else []), (kinds[-1] if kinds else None)


async def pupil_through_heard(client: httpx.AsyncClient, web: str, code: str, think: float, phase: Phase, rng) -> None:
    await asyncio.sleep(rng.uniform(0, think))
    t0 = time.perf_counter()
    response = await client.post(f"{web}/api/sessions", json={"invite_code": code})
    phase.latencies.append(time.perf_counter() - t0)
    if response.status_code != 201:
        phase.errors += 1
        return
    body = response.json()
    headers = {"Authorization": f"Bearer {body['token']}"}
    messages = body["messages"]
    for turn in range(200):
        payload = next_payload(*_last_buttons_heard(messages), rng)
        if payload is None:
            return
        await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
        t0 = time.perf_counter()
        response = await client.post(f"{web}/api/sessions/current/messages", headers=headers,
                                     json={"text": payload, "client_message_id": f"{code}-{turn}"})
        phase.latencies.append(time.perf_counter() - t0)
        if response.status_code != 200:
            phase.errors += 1
            return
        messages = response.json()["messages"]


async def pupil_straight_to_rasa(client: httpx.AsyncClient, settings: Settings, sender: str, think: float,
                                 phase: Phase, rng) -> None:
    url = f"{settings.rasa_url}/webhooks/rest/webhook"
    await asyncio.sleep(rng.uniform(0, think))
    text = "/start_checkin"
    for _ in range(200):
        t0 = time.perf_counter()
        response = await client.post(url, headers=rasa_authorization(settings.rasa_token), json={"sender": sender, "message": text})
        phase.latencies.append(time.perf_counter() - t0)
        if response.status_code != 200:
            phase.errors += 1
            return
        buttons, kind = _last_buttons_rasa(response.json())
        text = next_payload(buttons, kind, rng)
        if text is None:
            return
        await asyncio.sleep(rng.uniform(0.5, 1.5) * think)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_for_health(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"bench: {url} did not report every part healthy within {timeout:.0f} s")


def make_invites(db, school_name: str, count: int) -> list:
    school = repo.create_school(db, school_name)
    return [repo.create_invite(db, repo.create_pupil(db, school, f"Pupil {i}"), "york", question_set="core")
            for i in range(count)]


def prepare(sessions, count: int) -> tuple[list[str], list[str]]:
    """Invite codes for the Heard phase; check-ins started as the web app would for the bare-Rasa
    phase (its actions need them in the database)."""
    with sessions.begin() as db:
        codes = [invite.code for invite in make_invites(db, "Benchmark School", count)]
        senders = [repo.start_or_resume_session(db, invite).session.sender_id
                   for invite in make_invites(db, "Benchmark School (Rasa only)", count)]
    return codes, senders


async def run_phase(name: str, coroutines) -> Phase:
    phase = Phase(name)
    phase.started = time.perf_counter()
    await asyncio.gather(*(c(phase) for c in coroutines))
    phase.ended = time.perf_counter()
    return phase


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=50)
    parser.add_argument("--think", type=float, default=3.0, help="mean seconds a pupil thinks between taps")
    args = parser.parse_args()
    var = Path(tempfile.mkdtemp(prefix="heard-bench-"))
    settings = for_this_machine(Settings(
        var_dir=var,
        database_url=os.environ.get("HEARD_DATABASE_URL") or f"sqlite:///{var / 'heard.db'}",
        port=free_port(),
        public_url="http://127.0.0.1",
        rasa_url=f"http://127.0.0.1:{free_port()}",
        action_server_url=f"http://127.0.0.1:{free_port()}",
        rasa_token="bench-secret-of-thirty-two-bytes-or-more",
    ))
    upgrade(settings.resolved_database_url)
    processes = [start(p, settings, var) for p in every_process(settings)]
    try:
        for running in processes:
            if running.process.health_url:  # HAProxy and Redis have none; the servers behind HAProxy do
                wait_until_healthy(running, START_TIMEOUT)
        # HAProxy sends to a server once its check (every second) has found it up.
        wait_for_health(f"http://{settings.host}:{settings.port}/healthz", START_TIMEOUT)
        codes, senders = prepare(make_session_factory(make_engine(settings.resolved_database_url)), args.pupils)
        web = f"http://{settings.host}:{settings.port}"
        rng = random.Random(7)
        limits = httpx.Limits(max_connections=args.pupils)

        async def both() -> tuple[Phase, Phase]:
            async with httpx.AsyncClient(timeout=60, limits=limits) as client:
                heard = await run_phase("Heard chat API", [
                    (lambda phase, c=c: pupil_through_heard(client, web, c, args.think, phase, rng)) for c in codes])
                bare = await run_phase("bare Rasa REST", [
                    (lambda phase, s=s: pupil_straight_to_rasa(client, settings, s, args.think, phase, rng))
                    for s in senders])
            return heard, bare

        heard, bare = asyncio.run(both())
        report(args, settings, heard, bare, processes)
    finally:
        for running in processes:
            running.stop()


def report(args, settings: Settings, heard: Phase, bare: Phase, processes) -> None:
    print(f"\nHeard benchmark: {args.pupils} pupils, think time {args.think:.1f} s, York core check-ins, {os.cpu_count()} cores")
    print(f"Rasa servers {settings.rasa_workers}, action servers {settings.action_workers}, web workers {settings.web_workers}")
    print(f"{'':<16}{'turns':>7}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'msg/s':>8}")
    rows = {}
    for phase in (heard, bare):
        s = rows[phase.name] = phase.summary()
        print(f"{phase.name:<16}{s['turns']:>7}{s['errors']:>8}{s['p50']:>9.0f}{s['p95']:>9.0f}{s['p99']:>9.0f}{s['per_second']:>8.1f}")
    h, b = rows[heard.name], rows[bare.name]
    print(f"ratio Heard / bare Rasa: p50 {h['p50'] / b['p50']:.2f}x, p95 {h['p95'] / b['p95']:.2f}x  (target <= 1.15x)")
    print(f"Heard p95 {h['p95']:.0f} ms (target <= 250 ms)")
    peaks = {r.process.name: peak_rss_mb(r.popen.pid) for r in processes}
    print("peak RSS: " + ", ".join(f"{name} {mb:.0f} MB" for name, mb in peaks.items()) + f"; all {sum(peaks.values()):.0f} MB")


if __name__ == "__main__":
    main()

"""`make bench`: simulated pupils do whole check-ins through Heard's chat API, tapping and typing as
children do, then the same kind of turns go straight to Rasa's REST channel, so the cost of Heard's
own work (storing, screening, mapping, shaping messages) shows as a ratio.

    python -m tests.bench [--pupils 50] [--think 3.0] [--few 5] [--scaled]
    python -m tests.bench --by-turn [--few 3] [--think 2.0] [--typed 0.0]
    python -m tests.bench --class-only [--pupils 50] [--think 3.0]
    python -m tests.bench --capacity-only [--pupils 50]

`--by-turn` only measures what a turn costs against its number in the check-in (CPU per process,
one pupil at a time): see `cost_by_turn`. `--class-only` runs only run 3 below (a few minutes, to
compare a change; its figures are not the bench line's). `--capacity-only` runs only the
saturation phases of runs 2 and 3, and prints the speedup.

Three runs, each on a stack started as `heard run` starts it (on free local ports, a fresh
database, everything stopped at the end):
  1. few pupils (no queueing), Shropshire full check-ins of 60+ turns: typed against tapped
     turns, and turns 41-50 against turns 1-10 (a turn must not cost more as the talk grows);
  2. the class: 50 pupils, York standard check-ins, one Rasa server, action server and web worker;
  3. the class again with the worker counts `heard run` chooses on this machine.
Runs 2 and 3 end with a saturation phase: FLAT_OUT_PUPILS pupils with no think time, counted for
SATURATION_SECONDS from their first question on; their turns a second are the stack's capacity. speedup_vs_1_worker is run 3's capacity over run
2's: at 3 s think the class asks ~14 messages a second, which one worker already serves, so the
3 s-think msg/s cannot show what more workers add (that ratio is printed too).
In the class runs at least 30 % of turns are typed (answers in children's words and comments).
CPU per turn is the user + system time of every Heard process (and its children) during the
Heard phase of run 3, divided by its turns. Peak memory is the sum of each process's peak RSS.
`--scaled` (make bench SCALED=1) runs 2 and 3 on PostgreSQL with two web workers and two action
servers behind the balancer, as a council would deploy it.
The last line is the one README and CI read:
bench: pupils 50, workers N, heard p50_ms A, p95_ms B, p99_ms C, msg_s D, ratio_p95 E, speedup_vs_1_worker F, cpu_ms_per_turn G
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

from bot.chat.gateway import START_PAYLOAD, rasa_authorization
from bot.supervision import every_process, for_this_machine, one_of_each
from framework.db import repository as repo
from framework.db.engine import make_engine, make_session_factory, upgrade
from framework.settings import Settings
from tests.stack import RunningProcess, free_port, start

START_TIMEOUT = 480
SATURATION_SECONDS = 20.0
# Pupils in the saturation phase: enough that the chat's limit of 30 messages a minute for one
# check-in (bot/chat/limits.py) still lets them ask 50 a second, past two cores' capacity.
FLAT_OUT_PUPILS = 100
TYPED_SHARE = 0.45  # of questions and comment prompts: with the taps around them, over 30 % of all turns
# What children type instead of tapping (answers in their own words) and at comment prompts.
TYPED_ANSWERS = ("yeah", "nah", "sometimes", "kinda", "idk", "yes", "no", "not really", "i think so",
                 "true", "most days", "nope", "yep defo", "dont know")
COMMENTS = ("the dinner hall is too loud for me", "i like my TA she helps me with reading",
            "nobody sits with me at break", "i want to get my english gcse", "i can tie my own shoes now",
            "teachers decide stuff without asking me", "i like playing football with my friends",
            "the bus is too noisy and kids shout", "i need more help with maths")
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass
class Turn:
    seconds: float
    typed: bool
    number: int  # 1-based, within the pupil's check-in


@dataclass
class Phase:
    name: str
    turns: list[Turn] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # what went wrong, one line a failed pupil
    started: float = 0.0
    ended: float = 0.0
    cpu_seconds: float = 0.0

    def figures(self, turns: list[Turn] | None = None) -> dict:
        lat = sorted(t.seconds * 1000 for t in (self.turns if turns is None else turns))
        if not lat:
            return {"turns": 0, "p50": float("nan"), "p95": float("nan"), "p99": float("nan")}
        q = statistics.quantiles(lat, n=100) if len(lat) >= 2 else lat * 99
        return {"turns": len(lat), "p50": q[49], "p95": q[94], "p99": q[98]}

    @property
    def per_second(self) -> float:
        return len(self.turns) / max(self.ended - self.started, 1e-9)

    @property
    def typed_share(self) -> float:
        return sum(t.typed for t in self.turns) / max(len(self.turns), 1)


def next_message(messages: list[dict], kind_of, rng: random.Random, question_set: str,
                 typed_share: float = TYPED_SHARE) -> tuple[str, bool] | None:
    """What a pupil sends next, and whether it was typed (a `typed_share` of questions and comment
    prompts): None when the check-in has ended. Asked how many questions, the pupil keeps the set
    the school chose."""
    with_buttons = [m for m in messages if m.get("buttons")]
    if not with_buttons:
        return None
    last = with_buttons[-1]
    kind = kind_of(messages, last)
    if kind == "question":
        if rng.random() < typed_share:
            return rng.choice(TYPED_ANSWERS), True
        return rng.choice(last["buttons"])["payload"], False
    if kind == "comment" and rng.random() < typed_share:
        return rng.choice(COMMENTS), True
    if kind in ("end", "stopped", "paused"):
        return None
    keeps_the_set = [b for b in last["buttons"] if f'"question_set": "{question_set}"' in b["payload"].replace('":"', '": "')]
    return (keeps_the_set or last["buttons"])[0]["payload"], False


def heard_kind(messages: list[dict], last: dict) -> str | None:
    return last.get("kind")


def rasa_kind(messages: list[dict], last: dict) -> str | None:
    kinds = [m["custom"].get("kind") for m in messages if isinstance(m.get("custom"), dict)]
    return kinds[-1] if kinds else None


async def pupil_through_heard(client: httpx.AsyncClient, web: str, code: str, question_set: str, think: float,
                              phase: Phase, rng: random.Random) -> None:
    await asyncio.sleep(rng.uniform(0, think))
    response = await client.post(f"{web}/api/sessions", json={"invite_code": code})
    if response.status_code != 201:
        phase.errors.append(f"start: {response.status_code} {response.text[:120]}")
        return
    body = response.json()
    headers = {"Authorization": f"Bearer {body['token']}"}
    messages = body["messages"]
    for number in range(1, 201):
        sent = next_message(messages, heard_kind, rng, question_set)
        if sent is None:
            return
        await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
        t0 = time.perf_counter()
        response = await client.post(f"{web}/api/sessions/current/messages", headers=headers,
                                     json={"text": sent[0], "client_message_id": f"{code}-{number}"})
        if response.status_code != 200:
            phase.errors.append(f"turn {number}: {response.status_code} {response.text[:120]}")
            return
        phase.turns.append(Turn(time.perf_counter() - t0, sent[1], number))
        messages = response.json()["messages"]


async def pupil_straight_to_rasa(client: httpx.AsyncClient, settings: Settings, sender: str, question_set: str,
                                 think: float, phase: Phase, rng: random.Random) -> None:
    url = f"{settings.rasa_url}/webhooks/rest/webhook"
    await asyncio.sleep(rng.uniform(0, think))
    text, typed = "/start_checkin", False
    for number in range(1, 201):
        # signed per turn, as the web app does: the token is short-lived, and a check-in is not
        headers = rasa_authorization(settings.resolved_rasa_token)
        t0 = time.perf_counter()
        response = await client.post(url, headers=headers, json={"sender": sender, "message": text})
        if response.status_code != 200:
            phase.errors.append(f"turn {number}: {response.status_code} {response.text[:120]}")
            return
        phase.turns.append(Turn(time.perf_counter() - t0, typed, number))
        sent = next_message(response.json(), rasa_kind, rng, question_set)
        if sent is None:
            return
        text, typed = sent
        await asyncio.sleep(rng.uniform(0.5, 1.5) * think)


@dataclass
class StartLine:
    """Where flat-out pupils wait, each at its check-in's first question, until all are there."""

    waiting: int
    go: asyncio.Event = field(default_factory=asyncio.Event)
    deadline: float = 0.0
    # Set once a check-in has started from the bench's address: bot/tries.py then lets it have 100
    # starts in flight; a stranger's eleventh is refused.
    known: asyncio.Event = field(default_factory=asyncio.Event)

    def reached(self) -> None:
        self.waiting -= 1
        if self.waiting == 0:
            self.deadline = time.perf_counter() + SATURATION_SECONDS
            self.go.set()


async def pupil_flat_out(client: httpx.AsyncClient, web: str, code: str, question_set: str, phase: Phase,
                         rng: random.Random, line: StartLine, first: bool) -> None:
    """A pupil through Heard with no think time. The turns up to the first question (preferences,
    all taps) are not counted: from there, once every pupil is there, the turns answered by the
    line's deadline are. So the turns are the class's usual mix, typed ones included. A message
    the chat's limit on one check-in refuses (429: FLAT_OUT_PUPILS keep under it) is sent again, as
    is one whose connection the server had closed (its client_message_id makes that safe)."""
    counted = False
    try:
        if not first:
            await line.known.wait()
        response = await client.post(f"{web}/api/sessions", json={"invite_code": code})
        line.known.set()
        if response.status_code != 201:
            phase.errors.append(f"start: {response.status_code} {response.text[:120]}")
            return
        body = response.json()
        headers, messages = {"Authorization": f"Bearer {body['token']}"}, body["messages"]
        for number in range(1, 201):
            sent = next_message(messages, heard_kind, rng, question_set)
            if sent is None:
                return
            if not counted and [m for m in messages if m.get("buttons")][-1].get("kind") == "question":
                counted = True
                line.reached()
                await line.go.wait()
            for _ in range(10):
                t0 = time.perf_counter()
                if counted and t0 >= line.deadline:
                    return
                try:
                    response = await client.post(f"{web}/api/sessions/current/messages", headers=headers, json={
                        "text": sent[0], "client_message_id": f"{code}-{number}"})
                except (httpx.ReadError, httpx.RemoteProtocolError):
                    # uvicorn closes a connection idle 5 s (at the start line): sent again, on a new one
                    continue
                if response.status_code != 429:
                    break
                await asyncio.sleep(1.0)
            if response.status_code != 200:
                phase.errors.append(f"turn {number}: {response.status_code} {response.text[:120]}")
                return
            if counted and time.perf_counter() <= line.deadline:
                phase.turns.append(Turn(time.perf_counter() - t0, sent[1], number))
            messages = response.json()["messages"]
    finally:
        line.known.set()  # (the first pupil's start failed: the others try theirs)
        if not counted:  # it never got there: the others need not wait for it
            line.reached()


# ---- the processes: their CPU time and memory, from /proc -------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _family(pids: set[int]) -> set[int]:
    """The processes and all their descendants still alive."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    family, grew = set(pids), True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in family} - family
        family |= children
        grew = bool(children)
    return family


def cpu_seconds(pids: set[int]) -> float:
    """User + system CPU time of the processes, their live descendants and their reaped children."""
    total = 0
    for pid in _family(pids):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return total / CLOCK_TICKS


def peak_rss_mb(pids: set[int]) -> float:
    """The sum of each process's own peak resident memory (VmHWM)."""
    total = 0.0
    for pid in _family(pids):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")), 0.0)
    return total


# ---- one stack: started, filled with invites, stopped ------------------------------------------

@dataclass
class Run:
    label: str
    settings: Settings
    processes: list[RunningProcess]
    heard: Phase | None = None
    bare: Phase | None = None
    capacity: Phase | None = None  # the saturation phase
    peak_mb: float = 0.0

    @property
    def pids(self) -> set[int]:
        return {p.popen.pid for p in self.processes}

    @property
    def workers(self) -> int:
        return self.settings.rasa_workers


def warm_rasa(settings: Settings, text: str) -> None:
    """Each Rasa server (the balancer takes turns) reads `text` once, as NLU only."""
    for _ in range(settings.rasa_workers * 2):
        httpx.post(f"{settings.rasa_url}/model/parse", headers=rasa_authorization(settings.resolved_rasa_token),
                   json={"text": text}, timeout=START_TIMEOUT).raise_for_status()


def wait_for(url: str, timeout: float, running: list[RunningProcess]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in running:
            if p.popen.poll() is not None:
                raise SystemExit(f"bench: {p.process.name} exited:\n{p.log_tail()}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"bench: {url} did not answer healthy within {timeout:.0f} s")


@contextmanager
def fresh_database(scaled: bool, var: Path) -> Iterator[str]:
    if not scaled:
        yield os.environ.get("HEARD_DATABASE_URL") or f"sqlite:///{var / 'heard.db'}"
        return
    name = f"heard_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def stack(label: str, configure, scaled: bool) -> Iterator[Run]:
    var = Path(tempfile.mkdtemp(prefix="heard-bench-"))
    with fresh_database(scaled, var) as database_url:
        settings = configure(Settings(
            var_dir=var, database_url=database_url, port=free_port(), public_url="http://127.0.0.1",
            rasa_url=f"http://127.0.0.1:{free_port()}", action_server_url=f"http://127.0.0.1:{free_port()}",
            rasa_token="bench-secret-of-thirty-two-bytes-or-more", outbox_every_seconds=0,
        ))
        upgrade(settings.resolved_database_url)
        processes = [start(p, settings, var) for p in every_process(settings)]
        run = Run(label, settings, processes)
        try:
            for running in processes:
                if running.process.health_url:
                    wait_for(running.process.health_url, START_TIMEOUT, processes)
            # The balancer sends to a server once its check (every second) has found it up.
            wait_for(f"http://{settings.host}:{settings.port}/healthz", START_TIMEOUT, processes)
            # Rasa loads its language model on the first message it reads: not in anyone's turn.
            # A payload: typed words without the web app's sentence vector would load Rasa's encoder.
            warm_rasa(settings, START_PAYLOAD)
            yield run
        finally:
            run.peak_mb = run.peak_mb or peak_rss_mb(run.pids)
            for running in processes:
                running.stop()


def invites(settings: Settings, count: int, framework: str, question_set: str) -> tuple[list[str], list[str]]:
    """Invite codes for the Heard phase; check-ins started as the web app would for the bare-Rasa
    phase (its actions need them in the database)."""
    sessions = make_session_factory(make_engine(settings.resolved_database_url))
    with sessions.begin() as db:
        def make(school_name: str) -> list:
            school = repo.create_school(db, school_name)
            return [repo.create_invite(db, repo.create_pupil(db, school, f"Pupil {i}"), framework,
                                       question_set=question_set) for i in range(count)]
        codes = [invite.code for invite in make("Benchmark School")]
        senders = [repo.start_or_resume_session(db, invite).session.sender_id
                   for invite in make("Benchmark School (Rasa only)")]
    return codes, senders


async def phase(name: str, pupils, pids: set[int] | None = None) -> Phase:
    result = Phase(name)
    before = cpu_seconds(pids) if pids else 0.0
    result.started = time.perf_counter()
    await asyncio.gather(*(p(result) for p in pupils))
    result.ended = time.perf_counter()
    result.cpu_seconds = (cpu_seconds(pids) - before) if pids else 0.0
    return result


def load(run: Run, count: int, think: float, framework: str, question_set: str, seed: int,
         with_bare: bool = True, paced: bool = True, saturate: bool = False) -> None:
    """The class at `think` seconds (and straight to Rasa, `with_bare`), then flat out (`saturate`)."""
    codes, senders = invites(run.settings, count, framework, question_set)
    web = f"http://{run.settings.host}:{run.settings.port}"
    rng = random.Random(seed)

    async def phases() -> None:
        connections = max(count, FLAT_OUT_PUPILS if saturate else 0)
        async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=connections)) as client:
            if paced:
                run.heard = await phase("Heard chat API", [
                    (lambda ph, c=c: pupil_through_heard(client, web, c, question_set, think, ph, rng)) for c in codes],
                    run.pids)
                # The stack's memory is its peak so far: bare Rasa's typed words come without the web
                # app's sentence vectors, so Rasa then loads its own encoder (~300 MB a server).
                run.peak_mb = peak_rss_mb(run.pids)
            if with_bare:
                await asyncio.to_thread(warm_rasa, run.settings, "hello")  # that load: not in anyone's turn
                run.bare = await phase("bare Rasa REST", [
                    (lambda ph, s=s: pupil_straight_to_rasa(client, run.settings, s, question_set, think, ph, rng))
                    for s in senders])
            if saturate:
                fresh = (await asyncio.to_thread(invites, run.settings, FLAT_OUT_PUPILS, framework, question_set))[0]
                line = StartLine(len(fresh))
                run.capacity = await phase("Heard, no think", [
                    (lambda ph, c=c: pupil_flat_out(client, web, c, question_set, ph, rng, line, c == fresh[0]))
                    for c in fresh])
                run.capacity.started, run.capacity.ended = line.deadline - SATURATION_SECONDS, line.deadline

    asyncio.run(phases())


# ---- CPU by turn number: does a turn cost more as the conversation grows? -----------------------

SETTLE = 0.3  # seconds after a turn's reply before its CPU is read
BANDS = ((1, 10), (11, 20), (21, 30), (31, 40), (41, 50), (51, 60))


def cost_by_turn(pupils: int, think: float, typed_share: float) -> None:
    """Pupils tap (and type, a `typed_share` of answers) through Shropshire full check-ins one after
    another (the first only to warm the processes up), so each turn's CPU is its own: every
    process's user + system time from just before a turn until SETTLE after its reply, by turn
    number. Prints milliseconds a turn per process for bands of ten turns, and turns 41-50 against
    1-10 (target <= 1.2x)."""
    with stack("by turn", one_of_each, False) as run:
        codes, _ = invites(run.settings, pupils, "shropshire", "full")
        web = f"http://{run.settings.host}:{run.settings.port}"
        names = [p.process.name for p in run.processes]
        pids = [{p.popen.pid} for p in run.processes]
        spent: dict[int, list[list[float]]] = {}  # turn number: one row per pupil, ms per process
        rng = random.Random(5)
        with httpx.Client(timeout=120) as client:
            for pupil, code in enumerate(codes):
                body = client.post(f"{web}/api/sessions", json={"invite_code": code}).raise_for_status().json()
                headers, messages = {"Authorization": f"Bearer {body['token']}"}, body["messages"]
                for number in range(1, 201):
                    sent = next_message(messages, heard_kind, rng, "full", typed_share)
                    if sent is None:
                        break
                    time.sleep(think)  # the chat allows 30 messages a minute
                    before = [cpu_seconds(p) for p in pids]
                    messages = client.post(f"{web}/api/sessions/current/messages", headers=headers, json={
                        "text": sent[0], "client_message_id": f"{code}-{number}"}).raise_for_status().json()["messages"]
                    time.sleep(SETTLE)  # for work a process finishes after answering
                    after = [cpu_seconds(p) for p in pids]
                    if pupil:  # the first check-in warms each process up (imports, caches): not counted
                        spent.setdefault(number, []).append([(a - b) * 1000 for a, b in zip(after, before)])
    print(f"\nCPU ms a turn by turn number: {pupils - 1} pupils after one to warm up, Shropshire full check-ins "
          f"({max(spent)} turns), {typed_share:.0%} of answers typed, load {os.getloadavg()[0]:.1f}")
    print(f"{'turns':<8}" + "".join(f"{name:>10}" for name in names) + f"{'all':>10}")
    means = {}
    for first, last in BANDS:
        rows = [row for n in range(first, last + 1) for row in spent.get(n, [])]
        if not rows:
            continue
        mean = [statistics.fmean(column) for column in zip(*rows)]
        means[first] = sum(mean)
        print(f"{first:>2}-{last:<5}" + "".join(f"{m:>10.1f}" for m in mean) + f"{sum(mean):>10.1f}")
    if 1 in means and 41 in means:
        print(f"turns 41-50 CPU {means[41]:.1f} ms / turns 1-10 {means[1]:.1f} ms = "
              f"{means[41] / means[1]:.2f}x (target <= 1.2x)")


# ---- the report ----------------------------------------------------------------------------------

def table(run: Run) -> None:
    s = run.settings
    print(f"\n{run.label}: Rasa servers {s.rasa_workers}, action servers {s.action_workers}, web workers "
          f"{s.web_workers}; peak memory of the whole stack {run.peak_mb:.0f} MB")
    print(f"{'':<16}{'turns':>7}{'typed':>7}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'msg/s':>8}")
    for ph in (run.heard, run.bare, run.capacity):
        if ph is None:
            continue
        f = ph.figures()
        print(f"{ph.name:<16}{f['turns']:>7}{ph.typed_share:>7.0%}{len(ph.errors):>8}{f['p50']:>9.0f}{f['p95']:>9.0f}"
              f"{f['p99']:>9.0f}{ph.per_second:>8.1f}")
    for ph in (run.heard, run.bare, run.capacity):
        for error in (ph.errors if ph else [])[:5]:
            print(f"  {ph.name} error: {error}")


def class_runs(args, scaled=lambda settings: settings, paced: bool = True) -> tuple[Run, Run]:
    """Runs 2 and 3 (see the module): the class on one worker of each, then on the workers `heard
    run` chooses, each ending flat out; `paced` False: flat out only."""
    runs = []
    for label, configure in (("one worker", lambda s: scaled(for_this_machine(one_of_each(s)))),
                             ("workers as `heard run` chooses", lambda s: scaled(for_this_machine(s)))):
        with stack(f"{args.pupils} pupils, York standard check-ins, {label}", configure, args.scaled) as run:
            load(run, args.pupils, args.think, "york", "standard", seed=7, with_bare=paced, paced=paced, saturate=True)
        table(run)
        runs.append(run)
    return runs[0], runs[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=50)
    parser.add_argument("--think", type=float, default=3.0, help="mean seconds a pupil thinks between turns")
    parser.add_argument("--few", type=int, default=5, help="pupils in the run without queueing")
    parser.add_argument("--scaled", action="store_true",
                        help="PostgreSQL, two web workers and two action servers behind the balancer")
    parser.add_argument("--by-turn", action="store_true",
                        help="only CPU by turn number: --few pupils one after another (the first not counted), tapping "
                             "(--typed of answers typed)")
    parser.add_argument("--typed", type=float, default=0.0, help="with --by-turn: the share of answers typed")
    parser.add_argument("--class-only", action="store_true",
                        help="only the class run with the worker counts `heard run` chooses (Heard, then bare Rasa, "
                             "then flat out)")
    parser.add_argument("--capacity-only", action="store_true",
                        help="only the saturation phases of the one-worker and the chosen stacks, and the speedup")
    args = parser.parse_args()
    if args.by_turn:
        cost_by_turn(args.few, args.think, args.typed)
        return
    if args.class_only:
        with stack(f"{args.pupils} pupils, York standard check-ins, workers as `heard run` chooses",
                   for_this_machine, False) as auto:
            load(auto, args.pupils, args.think, "york", "standard", seed=7, saturate=True)
        table(auto)
        print(f"CPU {auto.heard.cpu_seconds * 1000 / max(len(auto.heard.turns), 1):.0f} ms a turn "
              f"(Heard phase, every Heard process); load average {os.getloadavg()[0]:.1f}")
        return
    if args.capacity_only:
        one, auto = class_runs(args, paced=False)
        print(f"\ncapacity {one.capacity.per_second:.1f} msg/s on one worker, {auto.capacity.per_second:.1f} on "
              f"{auto.workers}: speedup {auto.capacity.per_second / one.capacity.per_second:.2f}x; "
              f"load average {os.getloadavg()[0]:.1f}")
        return
    print(f"Heard benchmark on {os.cpu_count()} cores, think time {args.think:.1f} s"
          f"{', scaled (PostgreSQL, several web workers)' if args.scaled else ''}", flush=True)

    def scaled(settings: Settings) -> Settings:
        if not args.scaled:
            return settings
        return settings.model_copy(update={"web_workers": 2, "action_workers": 2})

    with stack(f"{args.few} pupils, Shropshire full check-ins, one of each", one_of_each, False) as few:
        load(few, args.few, args.think, "shropshire", "full", seed=5, with_bare=False)
    table(few)
    tapped = few.heard.figures([t for t in few.heard.turns if not t.typed])
    typed = few.heard.figures([t for t in few.heard.turns if t.typed])
    early = few.heard.figures([t for t in few.heard.turns if 1 <= t.number <= 10])
    late = few.heard.figures([t for t in few.heard.turns if 41 <= t.number <= 50])
    print(f"typed turn p50 {typed['p50']:.0f} ms / tapped turn p50 {tapped['p50']:.0f} ms = "
          f"{typed['p50'] / tapped['p50']:.2f}x (target <= 1.3x)")
    print(f"turns 41-50 p50 {late['p50']:.0f} ms ({late['turns']} turns) / turns 1-10 p50 {early['p50']:.0f} ms = "
          f"{late['p50'] / early['p50']:.2f}x (target <= 1.2x)", flush=True)

    one, auto = class_runs(args, scaled)
    h, b = auto.heard.figures(), auto.bare.figures()
    speedup = auto.capacity.per_second / one.capacity.per_second
    cpu_ms = auto.heard.cpu_seconds * 1000 / max(len(auto.heard.turns), 1)
    print(f"\nratio Heard / bare Rasa at {auto.workers} workers: p50 {h['p50'] / b['p50']:.2f}x, "
          f"p95 {h['p95'] / b['p95']:.2f}x (target <= 1.15x)")
    print(f"Heard p95 {h['p95']:.0f} ms (target <= 500), p99 {h['p99']:.0f} ms (target <= 1000); "
          f"CPU {cpu_ms:.0f} ms a turn (target <= 60); speedup over one worker {speedup:.2f}x "
          f"(capacity, msg/s with no think time; at {args.think:.0f} s think: msg/s "
          f"{auto.heard.per_second / one.heard.per_second:.2f}x, p95 {one.heard.figures()['p95'] / h['p95']:.2f}x) "
          f"(target >= 1.3)")
    print(f"peak memory of the whole stack {auto.peak_mb:.0f} MB (target <= 2,500)")
    print(f"bench: pupils {args.pupils}, workers {auto.workers}, heard p50_ms {h['p50']:.0f}, p95_ms {h['p95']:.0f}, "
          f"p99_ms {h['p99']:.0f}, msg_s {auto.heard.per_second:.1f}, ratio_p95 {h['p95'] / b['p95']:.2f}, "
          f"speedup_vs_1_worker {speedup:.2f}, cpu_ms_per_turn {cpu_ms:.0f}")


if __name__ == "__main__":
    main()

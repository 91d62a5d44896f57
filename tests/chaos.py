"""`make chaos`: simulated pupils do whole check-ins through the chat API while the harness
breaks things, then every pupil's acknowledged words are looked for in the database.

    python -m tests.chaos [--pupils 20] [--think 3.0] [--each 3] [--seed 18]

The stack is `heard run` itself (supervisord, bot/supervision.py, with one of each process from
bot/processes.py) on free ports of 127.0.0.1 over a fresh SQLite database in a temporary folder,
sending alert emails to a mail server (aiosmtpd) in this process. Each pupil behaves like the
widget: it keeps a client message id per message and sends the same id again after an error,
a 503 or a timeout, until the server acknowledges it. Its taps and typed words (answers,
comments, now and then a disclosure) follow a seeded random choice, so a run can be repeated.

Meanwhile, at random moments spread over the run, the harness kill -9s Rasa, the action server
and the web app (`--each` times each; supervisord must bring each back), holds SQLite's write
lock for several seconds (`--each` times), and stops the mail server for a while. How far the
pupils have got decides when each fault comes, so the run stretches with pupils and think time.

At the end it compares, pupil by pupil, what each sent and had acknowledged with what the
database holds (answers per question, comments, an alert for each disclosure, and an email
for each alert, sent or still queued) and prints, as its last line:

    chaos: check-ins N, faults F, answers lost L, answers misplaced M, duplicates D, alerts lost A

It exits non-zero when anything was lost, misplaced or doubled, or a pupil could not finish.
Everything it starts stops at the end, on Ctrl-C and on failure.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import xmlrpc.client
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.engine import make_url
from supervisor.xmlrpc import SupervisorTransport

from bot.supervision import socket_path
from framework.db import repository as repo
from framework.db.engine import make_engine, make_session_factory, upgrade
from framework.db.models import (
    AlertMessage,
    Answer,
    Comment,
    OutboxEmail,
    Pupil,
    SafeguardingAlert,
    SurveySession,
    TranscriptMessage,
)
from framework.loader import load_framework
from framework.settings import Settings
from framework.survey import SurveyPlan
from tests.stack import RASA_START_TIMEOUT, free_port
from tests.unit.staff_site import MailServer

HEARD = Path(sys.executable).parent / "heard"  # the command a school runs
KILLED = ("rasa", "actions", "web")  # supervisord's names for the processes (bot/processes.py)
TURNS_PER_CHECKIN = 22  # about: start, 4 preferences, 7 questions and their comment prompts, read-back, consent
REQUEST_TIMEOUT = 90.0  # seconds: longer than the web app waits for Rasa (60 s)

# What pupils type. Plain words the language model knows; when it is unsure it asks back and
# the pupil taps what it meant, as a child would.
TYPED_ANSWERS = {
    "yes": ("yes", "yeah", "yes i do", "yep"),
    "sometimes": ("sometimes", "some days", "sometimes yes"),
    "no": ("no", "nope", "no i dont"),
    "dont_know": ("i dont know", "dont know"),
}
TAPPED = {"yes": "/affirm", "sometimes": "/sometimes", "no": "/deny", "dont_know": "/dont_know", "skipped": "/skip"}
# Comments that say nothing the language model could take for "stop", "a break" or "help".
COMMENTS = (
    "I like drawing in art club", "More quiet time would help me", "My friend Sam sits with me at lunch",
    "Music lessons are my favourite", "A calm corner in class would help", "Playing football makes me happy",
    "I like it when my teacher explains things slowly", "Reading with Miss Jones is fun",
    "The big hall is too noisy for me", "Swimming on Fridays is the best bit",
)
# Caught by the safeguarding screen (`heard screen`), so each must become an alert.
DISCLOSURES = ("my step dad hurts me", "someone at home hits me", "my brother hits me when mum is out")
PREFERENCES = {"read_aloud": "off", "question_set": "core", "who_with": "alone"}
CORE_SET = SurveyPlan(load_framework("york"), "children_young_people", "core")  # what each pupil is asked


# ---- what a pupil sent, what the database holds, and the comparison ---------------------------------


@dataclass
class Sent:
    """What one pupil sent and had acknowledged (HTTP 200)."""

    pupil: str
    answers: dict[str, str] = field(default_factory=dict)  # statement id -> the answer meant
    typed: dict[str, list[str]] = field(default_factory=dict)  # statement id -> words typed for it
    comments: list[tuple[str, str]] = field(default_factory=list)  # (area id, words)
    disclosures: list[str] = field(default_factory=list)  # words the pupil meant as a worry
    finished: bool = False  # the bot said goodbye
    questions: list[str] = field(default_factory=list)  # every statement its check-in asks


@dataclass
class HeldAnswer:
    statement_id: str
    value: str
    current: bool
    words: str | None = None


@dataclass
class HeldAlert:
    words: list[str]  # each message of the alert, word for word
    emails_sent: int = 0  # marked sent, and in the mail server's inbox
    emails_queued: int = 0  # not sent yet: tried again later
    emails_vanished: int = 0  # marked sent, but never reached the mail server


@dataclass
class Held:
    """What the database holds for one pupil."""

    answers: list[HeldAnswer] = field(default_factory=list)  # every row, superseded ones too
    comments: list[tuple[str, str]] = field(default_factory=list)  # (area id, words)
    alerts: list[HeldAlert] = field(default_factory=list)
    repeated_messages: int = 0  # incoming transcript rows beyond one per client message id
    finished: bool = False


@dataclass
class Tally:
    checkins: int = 0
    lost: int = 0
    misplaced: int = 0
    duplicates: int = 0
    alerts_lost: int = 0
    problems: list[str] = field(default_factory=list)  # one line per finding, naming the pupil


def compare(sent: list[Sent], held: dict[str, Held]) -> Tally:
    """Pupil by pupil: each acknowledged answer stored once, on its own question, with its own
    value; each comment once, in its own area; each disclosure in an alert that has an email
    sent or queued; nothing stored that the pupil did not say."""
    tally = Tally()
    for pupil in sent:
        stored = held.get(pupil.pupil, Held())
        found = _Findings(pupil.pupil, tally)
        tally.checkins += pupil.finished and stored.finished
        rows: dict[str, list[HeldAnswer]] = {}
        for row in stored.answers:
            rows.setdefault(row.statement_id, []).append(row)
        for statement, meant in pupil.answers.items():
            current = [r for r in rows.get(statement, []) if r.current]
            if not current:
                found.lost(f"answer to {statement} ({meant}) not stored")
            elif current[0].value != meant:
                found.misplaced(f"answer to {statement} stored as {current[0].value}, meant {meant}")
            elif current[0].words is not None and current[0].words not in _typed_forms(pupil.typed.get(statement, [])):
                found.misplaced(f"answer to {statement} stored with words {current[0].words!r} typed for another")
        for statement in pupil.questions if pupil.finished else []:
            if statement not in pupil.answers and statement not in rows:
                found.lost(f"{statement} never answered: the check-in finished without it")
        for statement, answers in rows.items():
            if statement not in pupil.answers:
                found.misplaced(f"answer {answers[0].value} stored on {statement}, which the pupil did not answer")
            elif len(answers) > 1:
                found.duplicate(f"{len(answers)} answers stored for {statement}", len(answers) - 1)
        held_comments = Counter(stored.comments)
        for comment in set(pupil.comments):
            times = held_comments.pop(comment, 0)
            if times == 0:
                elsewhere = [area for area, words in held_comments if words == comment[1]]
                if elsewhere:
                    held_comments.pop((elsewhere[0], comment[1]))
                    found.misplaced(f"comment {comment[1]!r} stored in {elsewhere[0]}, said in {comment[0]}")
                else:
                    found.lost(f"comment {comment[1]!r} ({comment[0]}) not stored")
            elif times > 1:
                found.duplicate(f"comment {comment[1]!r} stored {times} times", times - 1)
        for (area, words), times in held_comments.items():
            found.misplaced(f"comment {words!r} stored in {area} ({times}x), never said")
        if stored.repeated_messages:
            found.duplicate(f"{stored.repeated_messages} messages stored twice", stored.repeated_messages)
        for words in pupil.disclosures:
            alerts = [alert for alert in stored.alerts if words in alert.words]
            times = sum(alert.words.count(words) for alert in alerts)
            if not alerts:
                found.alert_lost(f"disclosure {words!r}: no alert")
                continue
            if times > 1:
                found.duplicate(f"disclosure {words!r} in alerts {times} times", times - 1)
            if not any(alert.emails_sent or alert.emails_queued for alert in alerts):
                found.alert_lost(f"disclosure {words!r}: its alert has no email sent or queued")
        for alert in stored.alerts:
            if alert.emails_vanished:
                found.alert_lost(f"alert {alert.words[0]!r}: {alert.emails_vanished} email(s) marked sent, never received")
    return tally


def _typed_forms(typed: list[str]) -> set[str]:
    """How typed words can be kept: as typed, or (asked back) with what came next."""
    return set(typed) | {f"{first} / {then}" for first in typed for then in typed}


@dataclass
class _Findings:
    pupil: str
    tally: Tally

    def _note(self, what: str) -> None:
        self.tally.problems.append(f"{self.pupil}: {what}")

    def lost(self, what: str) -> None:
        self.tally.lost += 1
        self._note("LOST " + what)

    def misplaced(self, what: str) -> None:
        self.tally.misplaced += 1
        self._note("MISPLACED " + what)

    def duplicate(self, what: str, extra: int) -> None:
        self.tally.duplicates += extra
        self._note("DUPLICATE " + what)

    def alert_lost(self, what: str) -> None:
        self.tally.alerts_lost += 1
        self._note("ALERT LOST " + what)


def read_held(settings: Settings, school_id: int, inbox_ids: set[str]) -> dict[str, Held]:
    """What the database holds for every pupil of the school, by pupil name; `inbox_ids`: the
    Message-IDs the mail server received."""
    engine = make_engine(settings.resolved_database_url)
    held: dict[str, Held] = {}
    try:
        with make_session_factory(engine)() as db:
            for pupil in db.scalars(select(Pupil).where(Pupil.school_id == school_id)):
                mine = held[pupil.display_name] = Held()
                for session in db.scalars(select(SurveySession).where(SurveySession.pupil_id == pupil.id)):
                    mine.finished |= session.status == "finished"
                    mine.answers += [HeldAnswer(a.statement_id, a.value, a.superseded_at is None, a.words)
                                     for a in db.scalars(select(Answer).where(Answer.session_id == session.id))]
                    mine.comments += [(c.area_id, c.text)
                                      for c in db.scalars(select(Comment).where(Comment.session_id == session.id))]
                    ids = Counter(db.scalars(select(TranscriptMessage.client_message_id).where(
                        TranscriptMessage.session_id == session.id, TranscriptMessage.direction == "in",
                        TranscriptMessage.client_message_id.is_not(None))))
                    mine.repeated_messages += sum(n - 1 for n in ids.values())
                for alert in db.scalars(select(SafeguardingAlert).where(SafeguardingAlert.pupil_id == pupil.id)):
                    words = list(db.scalars(select(AlertMessage.words).where(AlertMessage.alert_id == alert.id)))
                    found = HeldAlert(words)
                    for email in db.scalars(select(OutboxEmail).where(OutboxEmail.alert_id == alert.id)):
                        if email.sent_at is None:
                            found.emails_queued += 1
                        elif _message_id(email) in inbox_ids:
                            found.emails_sent += 1
                        else:
                            found.emails_vanished += 1
                    mine.alerts.append(found)
    finally:
        engine.dispose()
    return held


def _message_id(email: OutboxEmail) -> str:
    """The Message-ID the outbox gives an email (bot/outbox.py), without its domain."""
    return f"<heard-outbox-{email.id}-{int(email.created_at.timestamp())}@"


# ---- a pupil, as the widget sends --------------------------------------------------------------------


@dataclass
class Counts:
    """What pupils met on the way, for the report."""

    turns: int = 0  # messages acknowledged
    retries: Counter = field(default_factory=Counter)  # by HTTP status (0: no answer at all)
    typed_answers: int = 0
    tapped_answers: int = 0
    asked_back: int = 0
    stalls: int = 0  # acknowledged replies with nothing to answer
    stalled: list[str] = field(default_factory=list)  # which, and what they said
    breaks: int = 0  # words taken for "have a break" (the pupil then signs in again)
    comments_not_taken: int = 0  # a comment answered as something else, the prompt asked again


def nothing_to_note(replies: list[dict]) -> None:
    """For a message whose acknowledgement changes nothing the comparison needs."""


class SimulatedPupil:
    def __init__(self, name: str, code: str, rng: random.Random, *, think: float, disclose_at: int | None,
                 counts: Counts, web: str):
        self.name = name
        self.code = code
        self.rng = rng
        self.think = think
        self.disclose_at = disclose_at  # the comment prompt (counted from 0) where it says its worry
        self.counts = counts
        self.web = web
        self.sent = Sent(name, questions=[st.id for st in CORE_SET.questions])
        self.auth: dict[str, str] = {}
        self.numbered = 0
        self.comment_prompts = 0
        self.asking: str | None = None  # the statement on screen
        self.meant = "yes"  # the answer meant to the question on screen
        self.comments = rng.sample(COMMENTS, len(COMMENTS))
        self.input_mode = rng.choice(("tap", "type"))
        self.failed: str | None = None

    async def run(self, http: httpx.AsyncClient, give_up: float) -> None:
        await asyncio.sleep(self.rng.uniform(0, self.think * 2))
        reply = await self.sign_in(http)
        stalls = 0
        while time.monotonic() < give_up:
            step = self.next_step(reply.get("messages") or [], reply.get("progress") or {})
            if step is None:
                return
            text, note = step
            await asyncio.sleep(self.think * self.rng.uniform(0.5, 1.5))
            reply = await self.deliver(http, text)
            if reply.get("restarted"):
                continue  # signed in again: answer whatever is on screen now
            note(reply.get("messages") or [])
            if any(m.get("kind") in ("paused", "stopped") for m in reply.get("messages") or []):
                # Words taken for "have a break": the child comes back with the code, as told.
                self.counts.breaks += 1
                reply = await self.sign_in(http)
                continue
            if not any(m.get("buttons") or m.get("kind") == "end" for m in reply.get("messages") or []):
                self.counts.stalls += 1
                self.counts.stalled.append(f"{self.name}-{self.numbered} {text!r} -> "
                                           f"{[m['text'][:40] for m in reply.get('messages') or []]}")
                stalls += 1
                if stalls > 5:
                    return
            else:
                stalls = 0

    async def sign_in(self, http: httpx.AsyncClient) -> dict:
        """The code typed on the start page, until the web app lets the pupil in."""
        while True:
            try:
                response = await http.post(f"{self.web}/api/sessions", json={"invite_code": self.code},
                                            timeout=REQUEST_TIMEOUT)
                status = response.status_code
            except httpx.HTTPError:
                status = 0
            if status == 201:
                body = response.json()
                self.auth = {"Authorization": f"Bearer {body['token']}"}
                if body.get("error"):  # in, but the chat engine was not reachable: start again
                    return await self.deliver(http, "/start_checkin")
                return body
            if status == 404:  # the code no longer starts this check-in (it was stopped)
                raise RuntimeError(f"{self.name}: the invite code was refused")
            self.counts.retries[f"start {status}"] += 1
            await self.wait_to_retry()

    async def deliver(self, http: httpx.AsyncClient, text: str) -> dict:
        """Send one message with its own client message id, the same id again until acknowledged."""
        self.numbered += 1
        message = {"text": text, "client_message_id": f"{self.name}-{self.numbered}"}
        while True:
            try:
                response = await http.post(f"{self.web}/api/sessions/current/messages", json=message,
                                            headers=self.auth, timeout=REQUEST_TIMEOUT)
                status = response.status_code
            except httpx.HTTPError:
                status = 0
            if status == 200:
                self.counts.turns += 1
                return response.json()
            self.counts.retries[status] += 1
            if status == 401:  # the widget goes back to the code page; the child types the code again
                return {**await self.sign_in(http), "restarted": True}
            if 400 <= status < 500 and status != 429:
                raise RuntimeError(f"{self.name}: {text!r} refused with {status}: {response.text}")
            await self.wait_to_retry()

    async def wait_to_retry(self) -> None:
        await asyncio.sleep(self.rng.uniform(1.5, 3.0))  # reads "try again", then taps it

    # ---- what to say next, from what the bot said --------------------------------------------------

    def next_step(self, messages: list[dict], progress: dict) -> tuple[str, Callable[[list[dict]], None]] | None:
        """The message to send and what to note once it is acknowledged; None when done."""
        if any(m.get("kind") == "end" for m in messages):
            self.sent.finished = True
            return None
        asking = next((m for m in reversed(messages) if m.get("buttons")), None)
        kind = asking.get("kind") if asking else None
        payloads = [b["payload"] for b in asking["buttons"]] if asking else []
        if asking is None:
            return "/repeat", nothing_to_note  # nothing to answer on screen: "say it again"
        if kind == "question":
            self.asking = asking["statement_id"]
            return self.answer()
        if kind == "clarify" and self.asking:
            return TAPPED[self.meant], nothing_to_note
        if kind == "comment":
            return self.comment(progress.get("current_area") or "", asking["text"])
        if kind == "safeguarding":
            return "/carry_on", nothing_to_note
        choose = [p for p in payloads if p.startswith("/choose{")]
        if choose:
            return self.choose(choose), nothing_to_note
        return ("/affirm" if "/affirm" in payloads else payloads[0]), nothing_to_note  # the read-back is right

    def answer(self) -> tuple[str, Callable[[list[dict]], None]]:
        statement = self.asking
        self.meant = meant = self.rng.choice(("yes", "yes", "sometimes", "no", "dont_know", "skipped"))
        typed = meant in TYPED_ANSWERS and self.rng.random() < 0.5
        text = self.rng.choice(TYPED_ANSWERS[meant]) if typed else TAPPED[meant]

        def acknowledged(replies: list[dict]) -> None:
            if any(m.get("kind") == "clarify" for m in replies):
                self.counts.asked_back += 1
            elif any(m.get("kind") == "question" and m.get("statement_id") == statement for m in replies):
                return  # asked again (help, or not understood): the next answer counts
            self.sent.answers[statement] = meant
            if typed:
                self.sent.typed.setdefault(statement, []).append(text)
                self.counts.typed_answers += 1
            else:
                self.counts.tapped_answers += 1

        return text, acknowledged

    def comment(self, area: str, prompt: str) -> tuple[str, Callable[[list[dict]], None]]:
        number, self.comment_prompts = self.comment_prompts, self.comment_prompts + 1
        if number == self.disclose_at:
            words = self.rng.choice(DISCLOSURES)
            self.sent.disclosures.append(words)
            return words, nothing_to_note
        if self.rng.random() < 0.3 and self.comments:
            words = self.comments.pop()

            def acknowledged(replies: list[dict]) -> None:
                if any(m.get("kind") == "safeguarding" for m in replies):
                    self.sent.disclosures.append(words)  # the screen read a worry in it
                elif any(m.get("kind") == "comment" and m["text"] == prompt for m in replies) or \
                        any(m.get("kind") in ("paused", "stopped") for m in replies):
                    self.counts.comments_not_taken += 1  # understood as something else: not kept
                else:
                    self.sent.comments.append((area, words))

            return words, acknowledged
        return "/skip", nothing_to_note  # "No more"

    def choose(self, payloads: list[str]) -> str:
        slot = next(iter(json.loads(payloads[0][len("/choose"):])))
        wanted = {**PREFERENCES, "input_mode": self.input_mode}.get(slot)
        for payload in payloads:
            if json.loads(payload[len("/choose"):]).get(slot) == wanted:
                return payload
        return self.rng.choice(payloads)


# ---- the stack, under supervisord ----------------------------------------------------------------------


class Supervised:
    """`heard run` on free local ports, as a school runs it."""

    def __init__(self, settings: Settings, log: Path):
        self.settings = settings
        self.log = log
        self.popen: subprocess.Popen | None = None
        self.web = f"http://127.0.0.1:{settings.port}"
        self.stopping = threading.Event()  # set when the run ends: stop waiting for anything

    def start(self) -> None:
        # Its own session: Ctrl-C reaches this harness, which stops supervisord (and so every part).
        self.popen = subprocess.Popen([str(HEARD), "run"], env={**os.environ, **self.settings.as_env()},
                                      stdout=self.log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)  # supervisord stops every part, then itself
        try:
            self.popen.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()

    def info(self, name: str) -> dict:
        """supervisord's view of one process (its XML-RPC interface, as supervisorctl uses)."""
        transport = SupervisorTransport(None, None, f"unix://{socket_path(self.settings)}")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor.getProcessInfo(name)

    def pid(self, name: str) -> int:
        try:
            info = self.info(name)
        except (OSError, xmlrpc.client.Error):
            return 0
        return info["pid"] if info["statename"] == "RUNNING" else 0

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.web}/healthz", timeout=10).json().get("ok") is True
        except (httpx.HTTPError, ValueError):
            return False

    def wait_for(self, what: str, ready: Callable[[], object], timeout: float = RASA_START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stopping.is_set():
            if self.popen.poll() is not None:
                raise RuntimeError(f"heard run exited with {self.popen.returncode}; see {self.log}")
            if ready():
                return
            self.stopping.wait(0.5)
        raise RuntimeError(f"not {what} after {timeout:.0f} s; logs in {self.settings.var_dir / 'log'}")


# ---- faults ----------------------------------------------------------------------------------------------


@dataclass
class Fault:
    kind: str  # "kill rasa", "kill actions", "kill web", "lock database", "stop mail"
    at: float  # fraction of the expected turns after which it comes
    seconds: float = 0.0  # how long a lock is held, or the mail server is down


def plan_faults(rng: random.Random, each: int, lock_seconds: tuple[float, float], mail_down: float) -> list[Fault]:
    """`each` kills of each process and `each` database locks at random points of the run, in
    random order, and one stop of the mail server."""
    kinds = [f"kill {name}" for name in KILLED] * each + ["lock database"] * each + ["stop mail"]
    rng.shuffle(kinds)
    points = sorted(rng.uniform(0.05, 0.85) for _ in kinds)
    return [Fault(kind, at, rng.uniform(*lock_seconds) if kind == "lock database" else
                  mail_down if kind == "stop mail" else 0.0) for kind, at in zip(kinds, points, strict=True)]


def hold_write_lock(database: str, seconds: float, stop: threading.Event) -> None:
    """Hold SQLite's write lock (as a long export or a backup might) for `seconds`."""
    connection = sqlite3.connect(database, timeout=30, isolation_level=None, check_same_thread=False)
    try:
        connection.execute("BEGIN IMMEDIATE")
        stop.wait(seconds)
        connection.execute("ROLLBACK")
    finally:
        connection.close()


class Injector:
    def __init__(self, stack: Supervised, mail: MailServer, faults: list[Fault], expected_turns: int, counts: Counts,
                 rng: random.Random, think: float, started: float):
        self.stack = stack
        self.mail = mail
        self.faults = faults
        self.expected_turns = expected_turns
        self.counts = counts
        self.rng = rng
        self.think = think
        self.started = started
        self.done: list[str] = []

    def say(self, what: str) -> None:
        print(f"  {time.monotonic() - self.started:7.1f} s  turns {self.counts.turns:5d}  {what}", flush=True)

    async def run(self, pupils_done: asyncio.Event) -> None:
        mail_back: asyncio.Task | None = None
        for fault in self.faults:
            while self.counts.turns < fault.at * self.expected_turns:
                if pupils_done.is_set():
                    self.say(f"pupils done before '{fault.kind}'")
                    break
                await asyncio.sleep(0.2)
            if pupils_done.is_set():
                break
            await asyncio.sleep(self.rng.uniform(0, self.think))  # a random moment, mid-turn for someone
            if fault.kind == "stop mail":
                mail_back = asyncio.create_task(self.stop_mail(fault.seconds))
            elif fault.kind == "lock database":
                self.say(f"lock database for {fault.seconds:.1f} s")
                await asyncio.to_thread(hold_write_lock, make_url(self.stack.settings.resolved_database_url).database,
                                        fault.seconds, self.stack.stopping)
                self.done.append(fault.kind)
            else:
                await asyncio.to_thread(self.kill, fault.kind.removeprefix("kill "))
            await asyncio.to_thread(self.stack.wait_for, "healthy again", self.stack.healthy)
        if mail_back is not None:
            await mail_back

    def kill(self, name: str) -> None:
        before = self.stack.pid(name)
        if not before:
            raise RuntimeError(f"supervisord does not run {name}")
        os.kill(before, signal.SIGKILL)
        self.done.append(f"kill {name}")
        self.say(f"kill -9 {name} (pid {before})")
        t0 = time.monotonic()
        self.stack.wait_for(f"{name} restarted by supervisord", lambda: self.stack.pid(name) not in (0, before))
        self.stack.wait_for(f"healthy after {name} was killed", self.stack.healthy)
        self.say(f"{name} back (pid {self.stack.pid(name)}) after {time.monotonic() - t0:.1f} s")

    async def stop_mail(self, seconds: float) -> None:
        self.mail.stop()
        self.done.append("stop mail")
        self.say(f"mail server stopped for {seconds:.0f} s")
        await asyncio.sleep(seconds)
        self.mail.start()
        self.say("mail server back")


# ---- the run ------------------------------------------------------------------------------------------


def make_pupils(settings: Settings, count: int) -> tuple[int, list[tuple[str, str]]]:
    """A school with a safeguarding lead, and `count` pupils with invites: (school id, [(name, code)])."""
    engine = make_engine(settings.resolved_database_url)
    try:
        with make_session_factory(engine).begin() as db:
            school = repo.create_school(db, "Chaos School")
            repo.create_staff(db, "dsl@chaos-school.example", "not-a-login", "dsl", school)
            invites = [(f"pupil-{n:02d}", repo.create_invite(
                db, repo.create_pupil(db, school, f"pupil-{n:02d}"), "york", question_set="core").code)
                for n in range(1, count + 1)]
            return school.id, invites
    finally:
        engine.dispose()


def wait_for_outbox(settings: Settings, seconds: float) -> None:
    """Wait (at most `seconds`) until no alert email is waiting to be sent."""
    engine = make_engine(settings.resolved_database_url)
    try:
        deadline = time.monotonic() + seconds
        while True:
            with make_session_factory(engine)() as db:
                waiting = len(db.scalars(select(OutboxEmail.id).where(
                    OutboxEmail.sent_at.is_(None), OutboxEmail.alert_id.is_not(None))).all())
            if not waiting or time.monotonic() > deadline:
                return
            time.sleep(2)
    finally:
        engine.dispose()


def inbox_ids(mail: MailServer) -> list[str]:
    """The Message-IDs the mail server received (without their domain), one per message."""
    return [str(m["Message-ID"]).split("@")[0] + "@" for m in mail.inbox.messages]


def email_summary(settings: Settings) -> tuple[int, int, int]:
    """(alert emails sent, of which tried more than once, still queued)."""
    engine = make_engine(settings.resolved_database_url)
    try:
        with make_session_factory(engine)() as db:
            emails = db.scalars(select(OutboxEmail).where(OutboxEmail.alert_id.is_not(None))).all()
            sent = [e for e in emails if e.sent_at is not None]
            return len(sent), sum(e.attempts > 0 for e in sent), len(emails) - len(sent)
    finally:
        engine.dispose()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=20)
    parser.add_argument("--think", type=float, default=3.0, help="mean seconds a pupil thinks before each message")
    parser.add_argument("--each", type=int, default=3, help="kills of each process, and database locks")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--lock-seconds", type=float, nargs=2, default=(6.0, 9.0), metavar=("MIN", "MAX"))
    parser.add_argument("--mail-down", type=float, default=60.0, help="seconds the mail server is stopped")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, databases)")
    return parser.parse_args(argv)


def _interrupted(*_) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"chaos: seed {args.seed}, {args.pupils} pupils, think {args.think:.1f} s, "
          f"{args.each} kills of each process and {args.each} database locks, mail down {args.mail_down:.0f} s", flush=True)
    var = Path(tempfile.mkdtemp(prefix="heard-chaos-"))
    mail = MailServer(free_port())
    web_port = free_port()
    settings = Settings(
        var_dir=var, port=web_port, public_url=f"http://127.0.0.1:{web_port}",
        rasa_url=f"http://127.0.0.1:{free_port()}", action_server_url=f"http://127.0.0.1:{free_port()}",
        rasa_token="chaos-secret-of-thirty-two-bytes-or-more",
        rasa_workers=1, action_workers=1, web_workers=1,
        smtp_host="127.0.0.1", smtp_port=mail.port, outbox_every_seconds=2.0,
    )
    stack = Supervised(settings, var / "heard-run.log")
    # A SIGTERM stops the run as Ctrl-C does, through the same clean-up.
    signal.signal(signal.SIGTERM, _interrupted)
    ok = interrupted = False
    try:
        upgrade(settings.resolved_database_url)
        school_id, invites = make_pupils(settings, args.pupils)
        mail.start()
        stack.start()
        started = time.monotonic()
        stack.wait_for("healthy at first", stack.healthy)
        print(f"chaos: stack up after {time.monotonic() - started:.0f} s (logs in {var / 'log'})", flush=True)
        ok = asyncio.run(run(args, stack, mail, invites, school_id))
    except KeyboardInterrupt:
        print("chaos: stopped", file=sys.stderr)
        interrupted = True
        return 130
    except RuntimeError as exc:  # a part did not come back, or heard run itself stopped
        print(f"chaos: FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
        mail.stop()
        if args.keep or not (ok or interrupted):  # a failed run's logs and databases, to look into
            print(f"chaos: kept {var}", flush=True)
        else:
            shutil.rmtree(var, ignore_errors=True)
    return 0 if ok else 1


async def run(args: argparse.Namespace, stack: Supervised, mail: MailServer, invites: list[tuple[str, str]],
              school_id: int) -> bool:
    settings = stack.settings
    rng = random.Random(args.seed)
    faults = plan_faults(rng, args.each, tuple(args.lock_seconds), args.mail_down)
    disclosers = set(rng.sample(range(len(invites)), max(1, round(len(invites) * 0.15))))
    counts = Counts()
    pupils = [SimulatedPupil(name, code, random.Random(f"{args.seed}-{name}"), think=args.think,
                             disclose_at=rng.randrange(7) if n in disclosers else None, counts=counts, web=stack.web)
              for n, (name, code) in enumerate(invites)]
    started = time.monotonic()
    injector = Injector(stack, mail, faults, args.pupils * TURNS_PER_CHECKIN, counts, rng, args.think, started)
    # Long enough for every check-in at this think time, and for each killed process to come back.
    give_up = started + 600 + args.pupils * TURNS_PER_CHECKIN * args.think + len(faults) * 120
    pupils_done = asyncio.Event()
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=args.pupils + 5)) as http:

        async def one(pupil: SimulatedPupil) -> None:
            try:
                await pupil.run(http, give_up)
            except Exception as exc:  # noqa: BLE001 (reported with the pupil; the others go on)
                pupil.failed = f"{type(exc).__name__}: {exc}"

        async def every_pupil() -> None:
            try:
                await asyncio.gather(*(one(p) for p in pupils))
            finally:
                pupils_done.set()

        try:
            await asyncio.gather(every_pupil(), injector.run(pupils_done))
        finally:
            stack.stopping.set()
    took = time.monotonic() - started
    await asyncio.to_thread(wait_for_outbox, settings, 150)
    held = read_held(settings, school_id, set(inbox_ids(mail)))
    tally = compare([p.sent for p in pupils], held)
    report(args, counts, injector, tally, took, email_summary(settings), Counter(inbox_ids(mail)))
    unfinished = [p for p in pupils if not p.sent.finished]
    for pupil in unfinished:
        print(f"chaos: {pupil.name} did not finish" + (f": {pupil.failed}" if pupil.failed else ""))
    print(f"chaos: check-ins {tally.checkins}, faults {len(injector.done)}, answers lost {tally.lost}, "
          f"answers misplaced {tally.misplaced}, duplicates {tally.duplicates}, alerts lost {tally.alerts_lost}")
    return not (tally.lost or tally.misplaced or tally.duplicates or tally.alerts_lost or unfinished)


def report(args, counts: Counts, injector: Injector, tally: Tally, took: float, emails: tuple[int, int, int],
           received: Counter) -> None:
    answers = counts.typed_answers + counts.tapped_answers
    print(f"\nchaos: {args.pupils} pupils, {counts.turns} messages acknowledged in {took:.0f} s; "
          f"answers {answers} ({counts.typed_answers} typed, {100 * counts.typed_answers / max(answers, 1):.0f} %, "
          f"{counts.asked_back} asked back), {counts.stalls} replies with nothing to answer, "
          f"{counts.comments_not_taken} comments taken for something else, {counts.breaks} taken for a break")
    print("chaos: retries by status (0: no answer): "
          + (", ".join(f"{status} x{n}" for status, n in sorted(counts.retries.items(), key=str)) or "none"))
    print("chaos: faults: " + ", ".join(f"{kind} x{n}" for kind, n in sorted(Counter(injector.done).items())))
    sent, retried, queued = emails
    # An email the mail server took, but the database could not mark sent, goes again (bot/outbox.py).
    print(f"chaos: alert emails sent {sent} ({retried} after a failed try), still queued {queued}; "
          f"the mail server received {received.total()} ({sum(n - 1 for n in received.values())} a second copy)")
    for stall in counts.stalled[:10]:
        print(f"  nothing to answer after {stall}")
    for problem in tally.problems:
        print(f"  {problem}")


if __name__ == "__main__":
    sys.exit(main())

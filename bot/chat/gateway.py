"""The chat gateway: the only way from the widget to Rasa. Every message is stored, then
screened, then (if safe) sent to Rasa; its replies are stored and shaped in replies.py.

The order is what keeps a child's words: the message is committed to the transcript on
its own, before anything else can fail; then it is screened with no transaction open (the
screen never holds the database), and a worry's alert is stored (in a transaction of its own)
and answered here even with Rasa down. A turn is all or nothing:
if Rasa cannot be reached, or an action could not store its part (it says so: Rasa itself
would drop the action's events and carry on), Rasa is told to forget the turn, the message
stays undelivered and the answer is 503; the widget's retry (same client_message_id) sends
it again. Rasa gets each message's transcript id, so the actions store what a message says
once, even when it reaches them twice. Messages of one check-in are handled one at a time,
so a double-submit waits for the first and then gets its replies rather than reaching Rasa twice.

What comes in is made safe here too. Control characters are removed before storing. Rasa
treats a message starting with "/" as an intent (with entities) and skips its language
model: our buttons send such payloads, and anything else typed with a leading slash has
the slash removed, so a child cannot set slots or trigger intents by typing.

Rasa keeps conversations in its SQL tracker store, but that store can be new or wiped
while this process was not looking: the first message of a check-in after this process
starts, or after Rasa was seen down, first checks that Rasa still has the conversation,
and if not sends /start_checkin, which resumes at the step the database holds.
"""
from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

import httpx
import jwt
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from accessibility.tts import SpeechCache
from bot.chat import texts
from bot.chat.limits import ChatLimits
from bot.chat.locks import CheckinLocks
from bot.chat.prompts import fixed_prompts
from bot.chat.replies import bot_message, drafts_from_rasa, long_message_draft, progress, store, support_drafts
from bot.chat.schemas import BotMessage, MessagesOut, Progress, SessionStartOut
from bot.chat.texts import ChatError
from bot.safeguarding.screen import screen
from bot.tries import Tries, Try
from framework.alerts import raise_alert
from framework.answers import answer_scale
from framework.checkin import MAX_COMMENT_CHARS
from framework.choices import choices, choose_payload
from framework.comment_cards import chosen_in
from framework.comment_cards import payload as cards_payload
from framework.conversation import (
    CHOICE_SLOTS,
    CHOOSE,
    MESSAGE_ID,
    PAYLOADS,
    SENTENCE_VECTOR,
    START,
    STATEMENT_ENTITY,
    TURN_FAILED,
    UNNEGATED,
    payload_entities,
)
from framework.db import repository as repo
from framework.db.engine import reading
from framework.db.models import UNFINISHED_STATUSES, SurveySession, TranscriptMessage, utcnow
from framework.onnx_encoder import sentence_encoder
from framework.loader import load_framework
from framework.schema import Framework
from framework.settings import Settings

log = logging.getLogger(__name__)

START_PAYLOAD = f"/{START}"
# Rasa is sent at most this much of one message (the transcript keeps it all).
MAX_FORWARDED_CHARS = MAX_COMMENT_CHARS
PREVIOUS_SCREENED = 2  # earlier typed messages screened with a new one (a worry split over messages)
CHECKED_SENDERS = 10_000  # conversations remembered as known to Rasa
# Rasa answers in well under a second; the first message after a start loads more.
RASA_TIMEOUT = httpx.Timeout(60.0, connect=3.0)
_KEPT_CONTROLS = {"\n", "\t"}
_LEADING_SLASHES = re.compile(r"^[\s/]+")


# ---- what comes in, made safe --------------------------------------------------------------------


def clean_text(text: str) -> str:
    """The text with control characters removed (newline and tab stay), and lone surrogates
    (which JSON can carry but no database can store)."""
    text = text.replace("\r\n", "\n")
    return "".join(
        ch for ch in text
        if ch in _KEPT_CONTROLS or unicodedata.category(ch) not in ("Cc", "Cs")
    )


@lru_cache(maxsize=1)
def _button_payloads() -> frozenset[str]:
    fixed = {b.payload for b in choices().buttons.values()}
    return frozenset({a.payload for a in answer_scale().answers} | fixed | PAYLOADS)


def known_payload(text: str, framework: Framework) -> str | None:
    """The payload one of our buttons sends, if `text` is one (in its canonical form), else None.

    /choose{...} must name one known slot and one of its values: a choice from
    framework/choices.yml, or a statement of this check-in's framework (to change an answer).
    /comment_cards{...} must name only known comment cards.
    """
    text = text.strip()
    if text in _button_payloads():
        return text
    cards = chosen_in(text)
    if cards is not None:
        return cards_payload(cards)
    chosen = payload_entities(text, CHOOSE)
    if chosen is None or len(chosen) != 1:
        return None
    [(slot, value)] = chosen.items()
    if not isinstance(value, str):
        return None
    if slot in CHOICE_SLOTS and value in {o.value for o in choices().options(slot)}:
        return choose_payload(slot, value)
    if slot == STATEMENT_ENTITY and any(st.id == value for area in framework.areas for st in area.statements):
        return choose_payload(slot, value)
    return None


@dataclass(frozen=True)
class ForRasa:
    text: str  # empty: nothing to send
    payload: bool  # one of our buttons' payloads
    cut: bool  # the words were longer than MAX_FORWARDED_CHARS


def for_rasa(text: str, framework: Framework) -> ForRasa:
    """What Rasa is sent for a stored message: a known payload as is, else the words with
    any leading slashes removed, cut to MAX_FORWARDED_CHARS."""
    payload = known_payload(text, framework)
    if payload is not None:
        return ForRasa(payload, payload=True, cut=False)
    words = _LEADING_SLASHES.sub("", text).rstrip()
    return ForRasa(words[:MAX_FORWARDED_CHARS], payload=False, cut=len(words) > MAX_FORWARDED_CHARS)


# ---- Rasa's REST channel, on this machine, with signed requests ------------------------------


RASA_TOKEN_LIFETIME = 60  # seconds a signed request to Rasa stays valid


def rasa_authorization(secret: str) -> dict[str, str]:
    """The header Rasa's HTTP API (sanic-jwt) and its REST channel (rasa_server/channels.py) check:
    a short-lived JWT signed with the shared secret, which itself never travels."""
    claims = {"user": {"username": "heard", "role": "admin"}, "exp": int(time.time()) + RASA_TOKEN_LIFETIME}
    return {"Authorization": "Bearer " + jwt.encode(claims, secret, algorithm="HS256")}


class RasaUnavailable(Exception):
    """Rasa or its action server could not answer; the message was not processed."""


class TurnFailed(Exception):
    """An action could not store its part of the turn; Rasa was told to forget the turn."""


def _turn_failed(elements: list[dict]) -> bool:
    """An action said it could not store its part of the turn."""
    return any(isinstance(e.get("custom"), dict) and e["custom"].get("kind") == TURN_FAILED for e in elements)


class RasaClient:
    def __init__(self, settings: Settings, http: httpx.AsyncClient):
        self.webhook = f"{settings.rasa_url}/webhooks/rest/webhook"
        self.conversations = f"{settings.rasa_url}/conversations"
        self.action_health = f"{settings.action_server_url}/health"
        self.secret = settings.resolved_rasa_token
        self.http = http
        # Conversations whose failed turn could not be undone yet: resumed before their next message.
        self._unsettled: set[str] = set()

    async def send(self, sender_id: str, text: str, message_id: int | None = None,
                   unnegated: str | None = None, sentence_vector: list[float] | None = None) -> list[dict]:
        """Rasa's reply elements for one message from `sender_id` (made by us, never by a client);
        `message_id`, its transcript row, goes to the actions in the message's metadata, and so
        do `unnegated`, its words outside the acts the screen found negated, if it found any.
        `sentence_vector`, typed words' meaning, is for Rasa's NLU, which then runs no encoder.

        Rasa logs a custom action it could not reach and carries on with nothing to say: every
        turn of ours runs actions, so silence means the turn was lost. The action server may be
        back already (a restart takes seconds), so its being up now proves nothing: the turn is
        undone in Rasa and sent once more. Only silence twice, with the action server up, is
        a turn with nothing to say."""
        if sender_id in self._unsettled and not await self._resume(sender_id):
            raise RasaUnavailable("the conversation could not be resumed in Rasa")
        body: dict = {"sender": sender_id, "message": text}
        if message_id is not None:
            body["metadata"] = {MESSAGE_ID: message_id}
        if unnegated is not None:
            body.setdefault("metadata", {})[UNNEGATED] = unnegated
        if sentence_vector is not None:
            body.setdefault("metadata", {})[SENTENCE_VECTOR] = sentence_vector
        elements = await self._turn(sender_id, body)
        if elements:
            return elements
        if not await self._resume(sender_id):
            raise RasaUnavailable("no reply, and the turn could not be undone in Rasa")
        elements = await self._turn(sender_id, body)
        if not elements and not await self._actions_reachable():  # it died again
            self._unsettled.add(sender_id)
            raise RasaUnavailable("the action server is not reachable")
        return elements

    async def _turn(self, sender_id: str, body: dict) -> list[dict]:
        """One message to Rasa; TurnFailed (the turn undone in Rasa) when an action said it failed."""
        elements = await self._post(body)
        if _turn_failed(elements):
            await self._resume(sender_id)
            raise TurnFailed(f"an action could not store its part of message {(body.get('metadata') or {}).get(MESSAGE_ID)}")
        return elements

    async def _post(self, body: dict) -> list[dict]:
        try:
            response = await self.http.post(
                self.webhook, headers=rasa_authorization(self.secret), json=body, timeout=RASA_TIMEOUT,
            )
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"Rasa not reachable: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise RasaUnavailable(f"Rasa answered HTTP {response.status_code}")
        return response.json()

    async def _resume(self, sender_id: str) -> bool:
        """Undo a turn that failed part-way: restart the conversation in Rasa and resume it at the
        step the database holds (/start_checkin; its replies are dropped), so the message, sent
        again, is read from where it first was. False, and tried again before the conversation's
        next message, when Rasa or the action server could not do it.

        Not Rasa's "rewind": inside a form, Rasa 3.6 folds the form's earlier turns away
        (DialogueStateTracker.applied_events), so a rewind goes back to before the form began."""
        try:
            response = await self.http.post(
                f"{self.conversations}/{sender_id}/tracker/events", headers=rasa_authorization(self.secret),
                json={"event": "restart"}, timeout=RASA_TIMEOUT,
            )
            response.raise_for_status()
            elements = await self._post({"sender": sender_id, "message": START_PAYLOAD})
        except (httpx.HTTPError, RasaUnavailable) as exc:
            log.warning("Rasa could not resume a conversation after a failed turn: %s", exc)
            elements = []
        if elements and not _turn_failed(elements):
            self._unsettled.discard(sender_id)
            return True
        self._unsettled.add(sender_id)
        return False

    async def has_conversation(self, sender_id: str) -> bool:
        """False when Rasa holds nothing from this sender (its tracker store is new or was wiped)."""
        try:
            response = await self.http.get(
                f"{self.conversations}/{sender_id}/tracker", params={"include_events": "NONE"},
                headers=rasa_authorization(self.secret), timeout=RASA_TIMEOUT,
            )
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"Rasa not reachable: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise RasaUnavailable(f"Rasa answered HTTP {response.status_code}")
        return bool((response.json().get("latest_message") or {}).get("text"))

    async def _actions_reachable(self) -> bool:
        try:
            return (await self.http.get(self.action_health, timeout=3.0)).status_code == 200
        except httpx.HTTPError:
            return False


# ---- the gateway ------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def speech_cache(audio_dir: Path) -> SpeechCache:
    return SpeechCache(audio_dir, fixed_prompts())


@dataclass(frozen=True)
class Received:
    """An incoming message, stored. Either it still needs Rasa (`forward`), or it is answered."""

    session_id: int
    message_id: int
    sender_id: str
    duplicate: bool
    forward: ForRasa | None = None
    answered: tuple[list[BotMessage], Progress | None] | None = None
    unnegated: str | None = None  # the screen's ScreenResult.unnegated, for the actions
    sentence_vector: list[float] | None = None  # typed words' meaning, for Rasa's NLU


@dataclass(frozen=True)
class ToScreen:
    """What the screen needs of a stored message, read before it runs."""

    session_id: int
    sender_id: str
    text: str
    forward: ForRasa
    previous: list[str]  # the child's last typed messages before it, oldest first


@dataclass(frozen=True)
class Stored:
    """A message committed to the transcript, and what the screen needs of it, read before the
    commit (None for a message sent before: _route looks at it afresh)."""

    message_id: int
    duplicate: bool
    screen: ToScreen | None = None


class NotStored(Exception):
    """The database refused the message: nothing of it is kept, and the answer says so."""


class ChatGateway:
    def __init__(self, sessions: sessionmaker[Session], rasa: RasaClient, speech: SpeechCache, limits: ChatLimits,
                 code_tries: Tries, *, idle_after: timedelta, locks: CheckinLocks | None = None):
        self.sessions = sessions
        self.rasa = rasa
        self.speech = speech
        self.limits = limits
        self.code_tries = code_tries
        self.idle_after = idle_after  # a token unused this long stops working
        self.locks = locks or CheckinLocks()
        # Goes up each time Rasa is seen down; a sender checked in an older one is checked again.
        self._rasa_outages = 0
        self._checked: OrderedDict[str, int] = OrderedDict()

    # ---- starting -----------------------------------------------------------------------------

    async def start(self, code: str, ip: str) -> SessionStartOut:
        """Start or resume the check-in of an invite code, and say hello."""
        attempt = await run_in_threadpool(self.code_tries.begin, ip)
        if attempt is None:
            raise ChatError(429, texts.TOO_MANY_CODE_TRIES)
        try:
            started = await run_in_threadpool(self._start, code, attempt)
        except SQLAlchemyError:
            log.exception("a check-in could not be started")
            raise ChatError(503, texts.NOT_SENT) from None
        if started is None:
            # Wrong and expired codes look the same, so a guesser learns nothing.
            raise ChatError(404, texts.CODE_NOT_FOUND)
        received, token, resumed = started
        async with self.locks.hold(received.session_id):
            try:
                messages, at = await self._ask_rasa(received)
            except (RasaUnavailable, TurnFailed, SQLAlchemyError) as exc:
                log.warning("check-in start not finished: %r", exc)
                return SessionStartOut(token=token, resumed=resumed, messages=[], progress=None,
                                       error=texts.LOST_CONNECTION)
        return SessionStartOut(token=token, resumed=resumed, messages=messages, progress=at)

    def _start(self, code: str, attempt: Try) -> tuple[Received, str, bool] | None:
        with self.sessions.begin() as db:
            invite = repo.find_invite_by_code(db, code)
            started = None if invite is None or invite.is_expired() else repo.start_or_resume_session(db, invite)
            if started is None:  # no such code, expired, or its check-in is over
                return None
            self.code_tries.succeeded(db, attempt)
            session, token, resumed = started
            message, _ = repo.add_message(db, session, "in", START_PAYLOAD, payload={"payload": START_PAYLOAD})
            return Received(session.id, message.id, session.sender_id, False, ForRasa(START_PAYLOAD, payload=True, cut=False)), token, resumed

    # ---- messages -----------------------------------------------------------------------------

    async def session_for_token(self, token: str) -> int | None:
        """The check-in a token is for; None for no such token. A token ends with its check-in
        and after `idle_after` without a message (ChatError 401, with words saying so)."""

        def find() -> int | None:
            with reading(self.sessions) as db:
                found = repo.token_check(db, token)
            if found is None:
                return None
            if found.status not in UNFINISHED_STATUSES:
                raise ChatError(401, texts.CHECKIN_OVER)
            if utcnow() - found.last_activity > self.idle_after:
                raise ChatError(401, texts.AWAY_TOO_LONG)
            return found.session_id

        if not token:
            return None
        try:
            return await run_in_threadpool(find)
        except SQLAlchemyError:
            log.exception("the database could not find a check-in's token")
            raise ChatError(503, texts.NOT_SENT, stored=False) from None

    async def send(self, session_id: int, text: str, client_message_id: str | None) -> MessagesOut:
        async with self.locks.hold(session_id):
            try:
                # One trip to a worker thread: the message stored (committed), then screened.
                received = await run_in_threadpool(self._receive, session_id, text, client_message_id)
                answer = received.answered
                if answer is None:
                    answer = await self._ask_rasa(received)
            except NotStored:
                log.exception("a message to check-in %s could not be stored", session_id)
                raise ChatError(503, texts.NOT_SENT, stored=False) from None
            except RasaUnavailable as exc:
                log.warning("a message to check-in %s stored, not yet sent to Rasa: %s", session_id, exc)
                raise ChatError(503, texts.LOST_CONNECTION, stored=True) from None
            except (TurnFailed, SQLAlchemyError) as exc:
                log.warning("a message to check-in %s stored, its turn not finished: %r", session_id, exc)
                raise ChatError(503, texts.NOT_FINISHED, stored=True) from None
        messages, at = answer
        return MessagesOut(messages=messages, progress=at, duplicate=received.duplicate)

    def _receive(self, session_id: int, text: str, client_message_id: str | None) -> Received:
        """The message stored (NotStored if the database refused it), then on its way (`_route`)."""
        try:
            stored = self._store(session_id, text, client_message_id)
        except SQLAlchemyError as exc:
            raise NotStored from exc
        return self._route(stored)

    def _store(self, session_id: int, text: str, client_message_id: str | None) -> Stored:
        """Commit the message on its own, word for word (once per client_message_id). What the
        screen needs of a new message is read in the same transaction, before the commit."""
        text = clean_text(text)
        with self.sessions.begin() as db:
            session = db.get(SurveySession, session_id)
            framework = load_framework(session.framework_id)
            forward = for_rasa(text, framework)
            if not forward.text.strip():
                raise ChatError(422, texts.EMPTY_OR_NOT_TEXT)
            message, created = repo.add_message(
                db, session, "in", text, client_message_id=client_message_id,
                payload={"payload": forward.text} if forward.payload else None,
            )
            if not created:  # its first request may have answered it meanwhile
                return Stored(message.id, duplicate=True)
            return Stored(message.id, duplicate=False, screen=ToScreen(
                session.id, session.sender_id, text, forward, self._typed_before(db, session, framework, message)))

    def _route(self, stored: Stored) -> Received:
        """A stored message's way on: its replies if it was answered before; else it is screened,
        and a worry's alert is stored and answered here; else Rasa's.

        The screen runs with no transaction open: what it needs was read before the message was
        committed (for a message sent again, in a short transaction of its own), and only a
        worry's alert and replies are written after, in a second one. So a long or costly message
        never holds SQLite's write lock (or a PostgreSQL connection) while it is screened."""
        message_id, duplicate = stored.message_id, stored.duplicate
        read = stored.screen or self._read_for_screen(message_id, duplicate)
        if isinstance(read, Received):
            return read
        found = screen(read.text, previous=read.previous)
        if not found.risk:
            # This process has the encoder for the worry signal; Rasa would need its own copy.
            vector = None if read.forward.payload else sentence_encoder().encode([read.forward.text])[0].tolist()
            return Received(read.session_id, message_id, read.sender_id, duplicate, forward=read.forward,
                            unnegated=found.unnegated, sentence_vector=vector)
        with self.sessions.begin() as db:
            message = db.get(TranscriptMessage, message_id)
            session = db.get(SurveySession, message.session_id)
            if message.delivered_at is None:  # else another web worker answered it meanwhile
                raise_alert(db, session, words=message.text, categories=list(found.categories),
                            evidence=list(found.evidence), source="screen", message=message)
                repo.mark_delivered(db, message)  # answered here: it is never to be sent to Rasa
                rows = store(db, session, support_drafts(session.perspective))
            else:
                rows = repo.replies_to(db, message)
            return Received(session.id, message.id, session.sender_id, duplicate, answered=self._answer(db, session, rows))

    def _read_for_screen(self, message_id: int, duplicate: bool) -> Received | ToScreen:
        """For a message sent again, in one short transaction: its replies if it was answered
        before, or what the screen needs."""
        with reading(self.sessions) as db:
            message = db.get(TranscriptMessage, message_id)
            session = db.get(SurveySession, message.session_id)
            if message.delivered_at is not None:
                return Received(session.id, message.id, session.sender_id, duplicate,
                                answered=self._answer(db, session, repo.replies_to(db, message)))
            framework = load_framework(session.framework_id)
            return ToScreen(session.id, session.sender_id, message.text, for_rasa(message.text, framework),
                            self._typed_before(db, session, framework, message))

    @staticmethod
    def _typed_before(db: Session, session: SurveySession, framework: Framework, message: TranscriptMessage) -> list[str]:
        """The child's last few typed messages (not button taps) before `message`, oldest first."""
        recent = repo.recent_texts(db, session, before=message, direction="in", limit=PREVIOUS_SCREENED * 4)
        typed = [text for text in recent if known_payload(text, framework) is None]
        return typed[-PREVIOUS_SCREENED:]

    async def _ask_rasa(self, received: Received) -> tuple[list[BotMessage], Progress | None]:
        sender = received.sender_id
        try:
            if received.forward.text != START_PAYLOAD and self._checked.get(sender) != self._rasa_outages:
                if not await self.rasa.has_conversation(sender):
                    # Its replies are dropped: the child already has the question they are answering.
                    await self.rasa.send(sender, START_PAYLOAD)
            elements = await self.rasa.send(sender, received.forward.text, received.message_id, received.unnegated,
                                            received.sentence_vector)
        except RasaUnavailable:
            self._rasa_outages += 1
            raise
        self._checked[sender] = self._rasa_outages
        self._checked.move_to_end(sender)
        if len(self._checked) > CHECKED_SENDERS:
            self._checked.popitem(last=False)
        return await run_in_threadpool(self._answered, received, elements)

    def _answered(self, received: Received, elements: list[dict]) -> tuple[list[BotMessage], Progress | None]:
        """Rasa has answered: mark the message delivered and store the replies."""
        with self.sessions.begin() as db:
            message = db.get(TranscriptMessage, received.message_id)
            session = db.get(SurveySession, message.session_id)
            repo.mark_delivered(db, message)
            drafts = drafts_from_rasa(elements, load_framework(session.framework_id), session.perspective)
            if received.forward.cut:
                drafts.insert(0, long_message_draft())
            return self._answer(db, session, store(db, session, drafts))

    def _answer(self, db: Session, session: SurveySession, rows: list[TranscriptMessage]) -> tuple[list[BotMessage], Progress | None]:
        return [bot_message(row, self.speech) for row in rows], progress(db, session)


"""The bot's side of the chat: Rasa's reply turned into messages for the widget, stored in
the transcript (so a retried message gets the same replies), with symbols, read-aloud
audio and progress added from our own data."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sqlalchemy.orm import Session

from accessibility.tts import SpeechCache
from bot.chat.prompts import domain_text, support
from bot.chat.schemas import AreaProgress, BotMessage, CardBoard, ChatButton, ChatCard, Progress, ReadbackLine
from framework import checkin
from framework.choices import fixed_button
from framework.db import repository as repo
from framework.db.models import SurveySession, TranscriptMessage
from framework.schema import Framework


@dataclass
class Draft:
    """One bot message before it is stored; stored as the transcript row's payload."""

    text: str
    kind: str = "say"
    buttons: list[dict] = field(default_factory=list)  # {"title", "payload", "symbol"}, as actions make them
    symbol: str | None = None
    statement_id: str | None = None
    area_title: str | None = None
    contains_child_words: bool = False
    board: dict | None = None  # comment cards, as framework/checkin.py's card_board() makes them
    lines: list[dict] | None = None  # a read-back's lines: {"text", "symbol", "change"}


def support_drafts(perspective: str) -> list[Draft]:
    """The safeguarding support words for whoever is answering (bot/safeguarding/support.yml:
    a child's, a parent carer's or a partner's), buttons on the last."""
    words = support(perspective)
    drafts = [Draft(text=text, kind="safeguarding") for text in words.messages]
    drafts[-1].buttons = [fixed_button(name) for name in words.buttons]
    return drafts


def long_message_draft() -> Draft:
    return Draft(text=domain_text("utter_long_message"))


def drafts_from_rasa(elements: list[dict], framework: Framework, perspective: str) -> list[Draft]:
    """Rasa's REST output as messages, in a check-in of `perspective`. A custom element belongs
    to the text just before it; the action server's safeguarding signal becomes the same
    support words the screen gives."""
    pairs: list[tuple[dict, dict]] = []  # (text element, its custom data)
    for element in elements:
        custom = element.get("custom") if isinstance(element.get("custom"), dict) else None
        has_words = bool(element.get("text") or element.get("buttons"))
        if not has_words and custom is not None and pairs and not pairs[-1][1]:
            pairs[-1] = (pairs[-1][0], custom)
        elif has_words or custom is not None:
            pairs.append((element, custom or {}))
    drafts: list[Draft] = []
    for element, custom in pairs:
        kind = custom.get("kind", "say")
        if kind == "safeguarding":
            drafts += support_drafts(perspective)
            continue
        text = element.get("text") or ""
        if not text and not element.get("buttons"):
            continue  # data with nothing to show
        statement_id = custom.get("statement_id")
        area_title = custom.get("area_title")
        if area_title is None and statement_id:
            try:
                area_title = framework.area_of(statement_id).plain_title
            except KeyError:
                pass
        drafts.append(Draft(
            text=text, kind=kind, buttons=list(element.get("buttons") or []), symbol=custom.get("symbol"),
            statement_id=statement_id, area_title=area_title,
            contains_child_words=bool(custom.get("contains_child_words")), board=custom.get("board"),
            lines=custom.get("lines"),
        ))
    return drafts


def store(db: Session, session: SurveySession, drafts: list[Draft]) -> list[TranscriptMessage]:
    return repo.add_replies(db, session, [(d.text, asdict(d)) for d in drafts])


def symbol_url(code: str | None) -> str | None:
    return f"/symbols/{code}.svg" if code else None


def audio_url(speech: SpeechCache, text: str) -> str:
    return f"/api/audio/{speech.key_for(text)}.mp3"


def bot_message(row: TranscriptMessage, speech: SpeechCache) -> BotMessage:
    draft = Draft(**row.payload)
    return BotMessage(
        id=row.id, text=row.text, kind=draft.kind,
        buttons=[
            ChatButton(label=b["title"], payload=b["payload"], symbol=b.get("symbol"),
                       symbol_url=symbol_url(b.get("symbol")), audio_url=audio_url(speech, b["title"]))
            for b in draft.buttons
        ],
        symbol=draft.symbol, symbol_url=symbol_url(draft.symbol), audio_url=audio_url(speech, row.text),
        statement_id=draft.statement_id, area_title=draft.area_title,
        contains_child_words=draft.contains_child_words,
        board=card_board(draft.board, speech) if draft.board else None,
        lines=[ReadbackLine(text=line["text"], symbol=line["symbol"], symbol_url=symbol_url(line["symbol"]),
                            change=line.get("change")) for line in draft.lines] if draft.lines else None,
    )


def card_board(board: dict, speech: SpeechCache) -> CardBoard:
    def card(card_id: str, words: str, symbol: str) -> ChatCard:
        return ChatCard(id=card_id, label=words, symbol=symbol, symbol_url=symbol_url(symbol),
                        audio_url=audio_url(speech, words))

    return CardBoard(
        cards=[card(c["id"], c["words"], c["symbol"]) for c in board["cards"]], payload=board["payload"],
        send=card("", **board["send"]), own_way=card("", **board["own_way"]),
    )


def progress(db: Session, session: SurveySession) -> Progress | None:
    """Where the check-in stands (framework/checkin.py), as the widget shows it."""
    at = checkin.progress(db, session)
    if at is None:
        return None
    plan = checkin.plan_for(session)
    return Progress(
        question_number=at.question_number, question_total=at.question_total, areas_done=list(at.areas_done),
        area_total=at.area_total, current_area=at.current_area,
        label=f"Question {at.question_number} of {at.question_total}",
        areas=[
            AreaProgress(id=a.id, title=a.plain_title, symbol=a.symbol, symbol_url=symbol_url(a.symbol),
                         done=a.id in at.areas_done, current=a.id == at.current_area)
            for a in plan.areas
        ],
    )

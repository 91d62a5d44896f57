"""The chat API's JSON shapes. The widget is built on them: add fields, never change one."""
from __future__ import annotations

from pydantic import BaseModel, Field

from framework.checkin import MAX_COMMENT_CHARS

MAX_CLIENT_MESSAGE_ID = 64
# A message is at most one comment's worth; the widget's text box stops there too.
MAX_MESSAGE_CHARS = MAX_COMMENT_CHARS


class ChatButton(BaseModel):
    label: str
    payload: str = Field(description="What the widget sends as `text` when the button is tapped.")
    symbol: str | None = Field(description="OpenMoji code, e.g. '1F44D'.")
    symbol_url: str | None
    audio_url: str = Field(description="The label read aloud.")


class ChatCard(BaseModel):
    id: str = Field(description="The card's id in framework/comment_cards.yml; empty for the board's own buttons.")
    label: str
    symbol: str = Field(description="OpenMoji code.")
    symbol_url: str
    audio_url: str = Field(description="The label read aloud.")


class CardBoard(BaseModel):
    """Under a comment prompt: cards to choose instead of typing."""

    cards: list[ChatCard]
    payload: str = Field(description='Send this followed by {"cards": "<chosen ids, space-separated>"}.')
    send: ChatCard = Field(description="The button that sends the chosen cards.")
    own_way: ChatCard = Field(description="The button that goes to the text box instead.")


class ReadbackLine(BaseModel):
    text: str
    symbol: str = Field(description="OpenMoji code of the answer given (or of a comment).")
    symbol_url: str
    change: str | None = Field(default=None, description="Send this to change the answer (a comment has none).")


class BotMessage(BaseModel):
    id: int = Field(description="The transcript row of this message.")
    text: str
    kind: str = Field(
        description="say, question, comment, clarify, explain, area_intro, readback, readback_area, safeguarding, end, paused, stopped"
    )
    buttons: list[ChatButton] = []
    symbol: str | None = None
    symbol_url: str | None = None
    audio_url: str = Field(description="The text read aloud (mp3).")
    statement_id: str | None = None
    area_title: str | None = None
    contains_child_words: bool = Field(default=False, description="True when the text repeats the young person's own words.")
    board: CardBoard | None = Field(default=None, description="Comment cards, under a comment prompt.")
    lines: list[ReadbackLine] | None = Field(default=None, description="A read-back's lines (the text, line by line), each with a symbol.")


class AreaProgress(BaseModel):
    id: str
    title: str
    symbol: str
    symbol_url: str
    done: bool
    current: bool


class Progress(BaseModel):
    question_number: int
    question_total: int
    areas_done: list[str]
    area_total: int
    current_area: str | None
    label: str = Field(description="e.g. 'Question 4 of 12'")
    areas: list[AreaProgress]


class SessionStartIn(BaseModel):
    invite_code: str = Field(max_length=64, description="The code staff gave the young person, as typed.")


class SessionStartOut(BaseModel):
    token: str = Field(description="Send as 'Authorization: Bearer <token>' with every message.")
    resumed: bool
    messages: list[BotMessage]
    progress: Progress | None
    error: str | None = Field(
        default=None, description="Set when the chat engine could not be reached: retry with text '/start_checkin'."
    )


class MessageIn(BaseModel):
    # Checked by the chat router, not here: pydantic's own check refuses lone surrogates, which
    # the gateway removes instead.
    text: str = Field(description="Typed words, or a button's payload.", json_schema_extra={"maxLength": MAX_MESSAGE_CHARS})
    client_message_id: str | None = Field(
        default=None, max_length=MAX_CLIENT_MESSAGE_ID,
        description="Made by the widget per message; a retry with the same id is stored once.",
    )


class MessagesOut(BaseModel):
    messages: list[BotMessage]
    progress: Progress | None
    duplicate: bool = Field(description="True when this message was already received; the replies are the ones sent then.")


class ErrorOut(BaseModel):
    error: str = Field(description="A kind, plain sentence to show the young person.")
    stored: bool | None = Field(default=None, description="True when the message is saved and can be retried.")

"""What the chat API says to a young person when something goes wrong: short, plain and kind.
tests/unit/test_chat_api.py checks each against the plain-language rules."""
from __future__ import annotations

CODE_NOT_FOUND = "I could not find that code. Check it, or ask your teacher."
CODE_MISSING = "Please type your code."
TOO_MANY_CODE_TRIES = "That is a lot of tries. Wait a few minutes, then try again."
SESSION_ENDED = "Your session has ended. Type your code again."
CHECKIN_OVER = "Your check-in is finished. Thank you for your answers."
AWAY_TOO_LONG = "You were away for a long time. Come back with your code."
EMPTY_OR_NOT_TEXT = "Please type something, or tap a button."
TOO_BIG = "That is too much to send. Please send a shorter message."
TOO_LONG = "That message is too long. Please make it shorter."
TOO_FAST = "You are sending messages very fast. Wait a bit, then try again."
LOST_CONNECTION = "I lost connection. Your answers are saved. Tap to try again."
# The message is kept, but what it says could not be stored yet (the database was busy).
NOT_FINISHED = "Sorry, I could not save that yet. Tap to try again."
# Nothing was kept: say nothing about saving.
NOT_SENT = "Sorry, that did not send. Tap to try again."

ALL = (CODE_NOT_FOUND, CODE_MISSING, TOO_MANY_CODE_TRIES, SESSION_ENDED, CHECKIN_OVER, AWAY_TOO_LONG, EMPTY_OR_NOT_TEXT,
       TOO_BIG, TOO_LONG, TOO_FAST, LOST_CONNECTION, NOT_FINISHED, NOT_SENT)


class ChatError(Exception):
    """A request the chat cannot take: the HTTP status and the words for the young person."""

    def __init__(self, status: int, error: str, *, stored: bool | None = None):
        super().__init__(error)
        self.status = status
        self.error = error
        self.stored = stored

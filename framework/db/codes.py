"""Invite codes: short, random, easy to read aloud and type.

Eight characters from an alphabet without 0/O, 1/I/L, shown as ABCD-EFGH. When a code
is typed back we forgive case, spaces and dashes; the database keeps the bare form.
"""
from __future__ import annotations

import secrets

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
_SEPARATORS = str.maketrans("", "", " -\t\n_")


def generate_code() -> str:
    """A new code in stored (bare) form, e.g. "ABCDEFGH"."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(typed: str) -> str | None:
    """The stored form of a typed code, or None when it cannot be a code at all."""
    bare = typed.translate(_SEPARATORS).upper()
    if len(bare) != CODE_LENGTH or any(ch not in ALPHABET for ch in bare):
        return None
    return bare


def format_code(code: str) -> str:
    """How a code is shown to people: ABCD-EFGH."""
    half = CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"

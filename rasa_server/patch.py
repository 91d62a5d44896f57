"""Changing one method of Rasa's, only on the Rasa version the change was written against."""
from __future__ import annotations

import logging
from collections.abc import Callable

import rasa

log = logging.getLogger(__name__)

RASA_VERSION = "3.6.21"  # the version whose methods our changes replace


def patch_rasa(owner: type, name: str, replacement_of: Callable[[Callable], Callable], if_not: str) -> None:
    """Replace `owner.name` with `replacement_of(the method Rasa has)`, on the Rasa version the
    replacement was written against; on any other, change nothing and log what that leaves out
    (`if_not`)."""
    if rasa.__version__ != RASA_VERSION:
        log.warning("Rasa %s, not %s: %s", rasa.__version__, RASA_VERSION, if_not)
        return
    setattr(owner, name, replacement_of(getattr(owner, name)))

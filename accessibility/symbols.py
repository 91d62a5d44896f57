"""OpenMoji symbols: the picture on every button and question.

The OpenMoji package (installed from npm by setup into node_modules/) is the source of
truth: a symbol code is valid only if OpenMoji draws it, and the widget serves its SVG.
Callers say where the package is (the setting HEARD_OPENMOJI_DIR), so this module needs
nothing of the rest of Heard.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

class SymbolsMissing(RuntimeError):
    pass


@lru_cache(maxsize=4)
def known_symbols(openmoji_dir: Path) -> dict[str, str]:
    """OpenMoji hexcode -> its annotation ("thumbs up")."""
    data_file = openmoji_dir / "data" / "openmoji.json"
    if not data_file.is_file():
        raise SymbolsMissing(
            f"OpenMoji data not found at {data_file}. Run 'make setup' (it installs the openmoji npm package), "
            "or set HEARD_OPENMOJI_DIR."
        )
    return {entry["hexcode"]: entry["annotation"] for entry in json.loads(data_file.read_text(encoding="utf-8"))}


def svg_path(openmoji_dir: Path, code: str) -> Path | None:
    """The colour SVG for a known symbol code; None for an unknown code."""
    if code not in known_symbols(openmoji_dir):
        return None
    path = openmoji_dir / "color" / "svg" / f"{code}.svg"
    return path if path.is_file() else None

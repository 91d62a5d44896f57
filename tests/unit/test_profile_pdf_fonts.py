"""The profile PDF's fonts: a document cut from a font's usual part (kept per process) is the
same, byte for byte, as one cut from the whole font file, and a letter outside the part sends
the document to the whole font."""
from __future__ import annotations

from datetime import datetime, timezone
from io import BytesIO

import pytest

from bot.exports import profile_pdf

WRITTEN_ON = datetime(2026, 1, 1, tzinfo=timezone.utc)
FONTS = {style: profile_pdf.FONT_DIR / name for style, name in profile_pdf.FONT_FILES.items()}
INSTALLED = pytest.mark.skipif(
    not all(path.is_file() for path in (*FONTS.values(), profile_pdf.EMOJI_FILE)),
    reason="the fonts are missing: scripts/system-deps installs fonts-dejavu-core and fonts-symbola")


def written(words: str, monkeypatch, *, whole_fonts: bool) -> tuple[bytes, dict[str, bool]]:
    """The PDF of `words` (and a bold heading), and for each font whether it was cut from its part."""
    if whole_fonts:
        monkeypatch.setattr(profile_pdf, "_usual_part", lambda family, path: (b"", frozenset()))
    cut_from_part = {}
    tables = profile_pdf._tables

    def watched(family, font):
        opened = tables(family, font)
        cut_from_part[font.fontkey] = isinstance(opened.reader.file, BytesIO)
        return opened

    monkeypatch.setattr(profile_pdf, "_tables", watched)
    pdf = profile_pdf._Profile(FONTS, 11)
    pdf.set_creation_date(WRITTEN_ON)
    pdf.heading("In my own words")
    pdf.quote(words, "What would help, Being safe")
    written = bytes(pdf.output())
    monkeypatch.undo()
    return written, cut_from_part


@INSTALLED
@pytest.mark.parametrize(("words", "from_part"), [
    ("Zoë’s café queue – it costs £2…", {"dejavu": True, "dejavuB": True}),
    ("I don’t like it 👎 but lunch is 😀", {"dejavu": True, "dejavuB": True, "symbola": True}),
    ("Мне нравится музыка", {"dejavu": False, "dejavuB": True}),  # Cyrillic: not in the part
    # The part has ˆ only as a piece of ê, not as a letter of its own: the whole font it is.
    ("ê is e with a ˆ on top", {"dejavu": False, "dejavuB": True}),
    ("My dog 🐕 and chess ♞ 🀄", {"dejavu": True, "dejavuB": True, "symbola": False}),  # 🀄 is not either
])
def test_a_profile_cut_from_the_usual_part_is_the_same_as_from_the_whole_font(words, from_part, monkeypatch):
    usual, cut_from_part = written(words, monkeypatch, whole_fonts=False)
    whole, cut_from_whole = written(words, monkeypatch, whole_fonts=True)
    assert cut_from_part == from_part and not any(cut_from_whole.values())
    assert usual == whole

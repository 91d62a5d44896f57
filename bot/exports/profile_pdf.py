"""The one-page pupil profile: a draft of EHCP Section A ("views, interests and aspirations")
from one check-in, in the young person's own words.

Their comments, and any words typed as an answer, are quoted exactly, in a Unicode font (DejaVu Sans) so curly
quotes, accents and other alphabets stay as they wrote them, with Symbola for the emoji
DejaVu lacks (a child's 👍 is part of what they said). The text is shrunk a little to
fit one page; if it still does not fit it runs on to a second page rather than being cut.

Reading a font file took about half of a profile's time, so each font is read once per
process (`_read_font`) and every profile takes its own copy of what was read. The font's tables
are only needed when the PDF is written, to cut them down to the letters used; for that each
process keeps a small copy of each font with the letters profiles nearly always use
(`_usual_part`), and a profile whose letters are all in it is cut from that copy, not from the
whole font file: the same bytes, for about a tenth of the work.
"""
from __future__ import annotations

import copy
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from fontTools.subset import Options, Subsetter
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import SubsetMap, TTFFont

from bot.reports.voice import CheckinSummary, ParentCarerView, StatementAnswer
from bot.reports.we_did import ActionView, CheckinActions
from bot.staff.wording import SCHOOL_TIME

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT = "DejaVu"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
EMOJI_FONT = "Symbola"
EMOJI_FILE = Path("/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf")  # Debian's fonts-symbola
# The letters nearly every profile uses: Latin with its accents, punctuation, currency, arrows,
# symbols and emoji (DejaVu has some of those too). Each process keeps a small copy of each font
# with just these (see `_usual_part`).
SYMBOLS_AND_EMOJI = ((0x2190, 0x2200), (0x2600, 0x27C0), (0x1F300, 0x1F700), (0x1F900, 0x1FA00))
USUAL_LETTERS = {
    FONT: ((0x20, 0x250), (0x2000, 0x2070), (0x20A0, 0x20D0), *SYMBOLS_AND_EMOJI),
    EMOJI_FONT: SYMBOLS_AND_EMOJI,
}
FONT_SIZES = (11, 10, 9, 8)  # tried in turn until the profile fits on one page
INK, MUTED = (27, 27, 27), (80, 90, 95)
TITLE = "EHCP Section A draft: views, interests and aspirations"


class ProfileFontMissing(RuntimeError):
    """The PDF font is not installed on this server."""


def profile_filename(summary: CheckinSummary) -> str:
    """No name in the file name (it shows in download lists and email attachments)."""
    day = summary.session.started_at.astimezone(SCHOOL_TIME)
    return f"heard-profile-pupil-{summary.pupil.id}-{day:%Y-%m-%d}.pdf"


def profile_pdf(summary: CheckinSummary, actions: CheckinActions, beside: ParentCarerView | None = None) -> bytes:
    """The profile of one check-in, with what the school plans about it ("you said, we did") and
    what it told them at it; with `beside`, their parent carer's answers after the pupil's."""
    fonts = {style: FONT_DIR / name for style, name in FONT_FILES.items()}
    missing = [str(path) for path in (*fonts.values(), EMOJI_FILE) if not path.is_file()]
    if missing:
        raise ProfileFontMissing(
            f"The profile PDF needs the DejaVu Sans and Symbola fonts, which are not installed here "
            f"({', '.join(missing)}). Install the Debian packages fonts-dejavu-core and fonts-symbola "
            "(scripts/system-deps does this), then try again."
        )
    for size in FONT_SIZES:
        pdf = _Profile(fonts, size)
        pdf.draw(summary, actions)
        if beside is not None:
            pdf.draw_parent_carer(beside)
        if pdf.pages_count == 1:
            break
    return bytes(pdf.output())


def read_fonts() -> None:
    """Read the fonts and make their usual parts (about a second and a half) when the web app
    starts, not while the first SENCO waits for a profile. Fonts not installed are left to
    `profile_pdf` to report."""
    files = [(FONT, style, FONT_DIR / name) for style, name in FONT_FILES.items()] + [(EMOJI_FONT, "", EMOJI_FILE)]
    for family, style, path in files:
        if path.is_file():
            _read_font(family, style, path)
            _usual_part(family, path)


@lru_cache(maxsize=None)
def _read_font(family: str, style: str, path: Path) -> TTFFont:
    """fpdf2's reading of a font file: widths, glyph ids and descriptor, without its tables."""
    reader = FPDF()
    reader.add_font(family, style, str(path))
    font = reader.fonts[f"{family.lower()}{style}"]
    font.ttfont.close()
    font.ttfont = None  # each document opens its own when written (`_tables`)
    return font


@lru_cache(maxsize=None)
def _usual_part(family: str, path: Path) -> tuple[bytes, frozenset[str]]:
    """The font cut down to the glyphs of its USUAL_LETTERS, and the names of those a document can
    be cut from it with: the same bytes as cut from the whole font."""
    font = TTFont(path, recalcTimestamp=False, lazy=True)
    letters = font.getBestCmap()
    # fontTools always keeps the first four glyphs (.notdef, .null, CR, space), as fpdf2 asks.
    glyphs = {letters[code] for start, end in USUAL_LETTERS[family] for code in range(start, end) if code in letters}
    glyphs.update(font.getGlyphOrder()[:4])
    whole_codes = _codes(font)
    options = Options(notdef_outline=True, recommended_glyphs=True, glyph_names=True)
    options.drop_tables += ["FFTM", "GDEF", "GPOS", "GSUB"]  # fpdf2 drops them from what it embeds
    subsetter = Subsetter(options)
    # Every code of a glyph kept: cut from the whole font, a glyph keeps all its codes.
    subsetter.populate(glyphs=glyphs, unicodes={code for glyph in glyphs for code in whole_codes.get(glyph, ())})
    subsetter.subset(font)
    # Symbola's emoji have no stored names (fontTools calls them glyph<number>, numbers that
    # would change in the part): store each name as fontTools knows it. The PDF keeps no glyph
    # names, so this changes nothing in it.
    font["post"].mapping = {}
    part = BytesIO()
    font.save(part)
    read_back = TTFont(BytesIO(part.getvalue()), lazy=True)
    part_codes = _codes(read_back)
    return part.getvalue(), frozenset(
        name for name, back in zip(font.getGlyphOrder(), read_back.getGlyphOrder())
        if name == back and whole_codes.get(name, set()) <= part_codes.get(name, set()))


def _codes(font: TTFont) -> dict[str, set[int]]:
    """Each glyph's Unicode characters, in all the font's Unicode character maps (fontTools keeps
    no others)."""
    codes: dict[str, set[int]] = {}
    for table in font["cmap"].tables:
        for code, glyph in table.cmap.items() if table.isUnicode() else ():
            codes.setdefault(glyph, set()).add(code)
    return codes


def _tables(family: str, font: TTFFont) -> TTFont:
    """The tables fpdf2 cuts down to the document's letters when it writes the PDF: from the
    font's usual part when it has them all, else from the whole font file."""
    part, glyphs = _usual_part(family, Path(font.ttffile))
    source = BytesIO(part) if glyphs.issuperset(font.subset.get_all_glyph_names()) else font.ttffile
    return TTFont(source, recalcTimestamp=False, lazy=True)


@lru_cache(maxsize=1)
def _dejavu_characters() -> frozenset[int]:
    return frozenset(TTFont(FONT_DIR / FONT_FILES[""], lazy=True).getBestCmap())


def dejavu_covers(text: str) -> bool:
    """Whether DejaVu Sans has a letter for every character (spaces and line ends aside)."""
    known = _dejavu_characters()
    return all(ord(character) in known for character in text if not character.isspace())


class _Profile(FPDF):
    def __init__(self, fonts: dict[str, Path], size: float):
        super().__init__(format="A4")
        self.families: dict[str, str] = {}  # font key: family
        self.size = size
        self.line = size * 0.48  # line height in mm
        for style, path in fonts.items():
            self.add_read_font(FONT, style, path)
        self.emoji_font_added = False
        self.set_margins(16, 14, 16)
        self.set_auto_page_break(True, margin=14)
        self.set_creator("Heard")
        self.set_title(TITLE)
        self.add_page()

    def add_read_font(self, family: str, style: str, path: Path) -> None:
        """What `add_font` does, from the font as read once: the same letters, widths and output."""
        font = copy.copy(_read_font(family, style, path))  # what was read is shared; what a document changes is its own
        font.i = len(self.fonts) + 1
        font.subset = SubsetMap(font)
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        self.fonts[font.fontkey] = font
        self.families[font.fontkey] = family

    def output(self, *args, **kwargs):
        """The PDF, each font's tables opened just for it (fpdf2 cuts them down and closes them)."""
        for fontkey, font in self.fonts.items():
            font.ttfont = _tables(self.families[fontkey], font)
        return super().output(*args, **kwargs)

    def text_block(self, text: str, *, bold: bool = False, scale: float = 1.0, muted: bool = False,
                   indent: float = 0, after: float = 0.6) -> None:
        if not self.emoji_font_added and not dejavu_covers(text):
            # Only when a child's words need it: every font added is embedded in the PDF.
            self.add_read_font(EMOJI_FONT, "", EMOJI_FILE)
            self.set_fallback_fonts([EMOJI_FONT], exact_match=False)
            self.emoji_font_added = True
        self.set_font(FONT, "B" if bold else "", self.size * scale)
        self.set_text_color(*(MUTED if muted else INK))
        self.set_x(self.l_margin + indent)
        self.multi_cell(0, self.line * scale, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(after)

    def heading(self, text: str) -> None:
        self.ln(1.5)
        self.text_block(text, bold=True, scale=1.2, after=1)

    def quote(self, words: str, about: str) -> None:
        self.said(f"“{words}”", about)

    def said(self, line: str, about: str) -> None:
        self.text_block(line, indent=4, after=0)
        self.text_block(about, muted=True, scale=0.85, indent=4, after=1.2)

    def draw(self, summary: CheckinSummary, actions: CheckinActions) -> None:
        session, pupil = summary.session, summary.pupil
        day = session.started_at.astimezone(SCHOOL_TIME)
        date = f"{day.day} {day:%B %Y}"
        source = summary.framework.source

        self.text_block(TITLE, bold=True, scale=1.45, after=1)
        about_pupil = ", ".join(filter(None, (pupil.year_group, pupil.class_name)))
        self.text_block(pupil.display_name + (f" ({about_pupil})" if about_pupil else ""), bold=True, scale=1.2)
        if summary.by_parent_carer:
            self.text_block(f"From their parent carer's Heard check-in on {date}, about them: the parent carer's "
                            "own views. Words in quotation marks are exactly what they wrote.", muted=True, scale=0.9)
        else:
            self.text_block(f"From a Heard check-in on {date}. A draft to read through with the young person: "
                            "words in quotation marks are exactly what they wrote.", muted=True, scale=0.9)

        # Only comments are views in their own words; words typed as an answer ("nah",
        # "kinda") are shown with the answer they gave, below.
        self.heading("In my own words")
        for area, comment in summary.comments:
            about = f"{comment.kind_label}, {area.title}"
            if comment.about and not comment.moved:  # moved: the area it is under is staff's filing
                about += ". About: " + " ".join(s.text for s in comment.about)
            if comment.cards:
                self.said(f"I {comment.cards_chosen}.", about)
            else:
                self.quote(comment.text, about)
        if not summary.comments:
            self.text_block("I did not write any comments this time. What I said with my answers is below.")

        self.heading("What I said about each area")
        for area in summary.areas:
            self.text_block(f"{area.title} ({area.area.title})", bold=True, after=0.2)
            said = area.in_first_person()
            for words, statements in said:
                self.text_block(f"{words}: " + " ".join(_answer_given(s) for s in statements), indent=4, after=0.3)
            if not said:
                self.text_block("Not answered this time.", indent=4, after=0.3)
            self.ln(0.6)

        self.draw_we_did(actions)

        gathered = summary.gathered
        self.heading("How my views were gathered")
        questions = f"Questions: {summary.question_set}."
        if summary.chose_shorter_set:
            questions += f" I chose the shorter set: the invite was for {summary.invited_question_set}."
        facts = [
            questions,
            f"Who spoke: {gathered.who_with or 'not asked'}.",
            "How the answers were given: "
            + (", ".join(f"{how} ({count})" for how, count in gathered.methods) or "no answers yet") + ".",
            f"Questions read aloud: {'on' if gathered.read_aloud else 'off'}"
            f" (read aloud for {gathered.read_aloud_answers} of {gathered.answers} answers).",
            f"Date: {date}. The check-in is {summary.status.lower()}: {summary.answered} of {summary.asked} "
            f"questions answered" + (f", {summary.skipped} skipped." if summary.skipped else "."),
            f"Gathered with Heard, using the {summary.framework.title} ({source.council}).",
            f"Who I said may see my answers: {_consent_words(summary.consent)}.",
        ]
        for fact in facts:
            self.text_block(fact, after=0.3)
        self.ln(1)
        self.text_block(f"Heard pupil id {pupil.id}, check-in {session.id}.", muted=True, scale=0.8)

    def draw_we_did(self, actions: CheckinActions) -> None:
        """"You said, we did": the school's plans about this check-in, and what it told them at it
        about earlier ones, with their reply."""
        if not (actions.planned or actions.told):
            return
        self.heading("You said, we did")
        for title, items in (("What my school plans about what I said", actions.planned),
                             ("What my school told me at this check-in", actions.told)):
            if items:
                self.text_block(title, bold=True, after=0.2)
            for action in items:
                self.said(action.what, _plan_facts(action))
            self.ln(0.6)

    def draw_parent_carer(self, beside: ParentCarerView) -> None:
        """Their parent carer's answers, area by area after the pupil's, and where the two differ."""
        theirs = beside.summary
        day = theirs.session.started_at.astimezone(SCHOOL_TIME)
        self.heading("What my parent carer said")
        self.text_block(f"From their own check-in on {day.day} {day:%B %Y}, with the framework's statements for "
                        f"parent carers (check-in {theirs.session.id}). Kept apart from my answers above.",
                        muted=True, scale=0.9)
        for difference in beside.differences:
            self.said(difference.sentence(beside.first_name),
                      f"I was asked “{difference.child.statement.question}”; my parent carer was asked "
                      f"“{difference.parent_carer.statement.question}”")
        for side in beside.areas:
            self.text_block(f"{side.area.title} ({side.area.area.title})", bold=True, after=0.2)
            for item in side.area.statements:
                if item.answer:
                    words = f" (they typed “{item.answer.words}”)" if item.answer.words else ""
                    self.text_block(f"{item.answer.label}: {item.statement.text}{words}", indent=4, after=0.3)
            for comment in side.area.comments:
                self.quote(comment.text, f"{comment.kind_label}, {side.area.title}")
            self.ln(0.6)


def _answer_given(item: StatementAnswer) -> str:
    """An I statement, with any words the young person typed as their answer."""
    if item.answer.words:
        return f"{item.statement.text} (I typed “{item.answer.words}”)"
    return item.statement.text


def _plan_facts(action: ActionView) -> str:
    """E.g. 'Being safe: Asked “Do you feel safe at school?”, they said No. Who: TA, by Fri 13 Dec
    2026. They will hear: “Now you can eat in the quiet room.” Planned.'"""
    return (f"{action.area_title}: {action.about}. Who: {action.who}, by {action.due_words}. "
            f"They will hear: “{action.child_hears}” {action.status}.")


def _consent_words(consent: tuple[str, ...] | None) -> str:
    if consent is None:
        return "not asked yet"
    return ", ".join(f"“{choice}”" for choice in consent) or "no one chosen"

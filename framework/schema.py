"""Typed models for an outcomes framework file (framework/frameworks/*.yml).

A framework is data: councils write their own. Every rule a file must follow lives
here so that `heard framework check FILE` and the app agree on what is valid.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

QUESTION_SETS = ("core", "standard", "full")
QuestionSet = Literal["core", "standard", "full"]

# Who a statement is written for. The chat engine asks whichever perspective an
# invite names; nothing assumes the child one.
Perspective = Literal["children_young_people", "parent_carers", "partners"]
CHILDREN: Perspective = "children_young_people"
# Who reads a perspective's questions: each has its own plain-language bar (accessibility.plain_language).
Readers = Literal["children", "adults"]

ID_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$"
# OpenMoji names symbols by Unicode code points joined with "-" (e.g. "1F44D", "1F469-200D-1F467")
# or by its own extra range ("E000"…).
SYMBOL_PATTERN = r"^[0-9A-F]{4,6}(-[0-9A-F]{4,6})*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    council: str = Field(min_length=2)
    document: str = Field(min_length=2)
    years: str = Field(min_length=4)
    seed_file: str = Field(
        min_length=1,
        description="File name of the source text in shared/seeds, used by the completeness test.",
    )


class Statement(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    perspective: Perspective
    text: str = Field(min_length=3, description="The framework's own words, exactly.")
    authored_by: Literal["source", "heard"] = "source"
    question: str | None = Field(
        default=None, description="The plain-language question asked in the chat."
    )
    reworded: str | None = Field(
        default=None, description="The question asked another way, for a child who asks what it means."
    )
    example: str | None = Field(
        default=None, description="A short example or meaning said after the rewording.",
    )
    symbol: str | None = Field(default=None, pattern=SYMBOL_PATTERN)
    sets: tuple[QuestionSet, ...] = ()
    keywords: tuple[str, ...] = Field(
        default=(),
        description="Words and short phrases a comment may use about this statement (for mapping free text).",
    )
    mirrors: str | None = Field(
        default=None, pattern=ID_PATTERN,
        description="The child statement this one asks about from another side (e.g. a parent carer's), so staff"
                    " are told plainly where the two answers differ.",
    )

    @model_validator(mode="after")
    def _askable_needs_question(self) -> "Statement":
        if self.sets and (not self.question or not self.symbol):
            raise ValueError(
                "a statement in a question set needs a 'question' and a 'symbol'"
            )
        if self.sets and (not self.reworded or not self.example):
            raise ValueError(
                "a statement in a question set needs 'reworded' (the question said another way)"
                " and 'example' (a short example), for a child who asks what it means"
            )
        if self.sets and "full" not in self.sets:
            raise ValueError("every asked statement belongs to the 'full' set; add 'full' to 'sets'")
        if "core" in self.sets and "standard" not in self.sets:
            raise ValueError("a 'core' statement belongs to the 'standard' set too; add 'standard'")
        return self


class AreaPrompts(_Strict):
    """Child-facing words for one area, per perspective that is asked."""

    intro: str = Field(min_length=3)
    anything_else: str = Field(min_length=3)
    what_would_help: str = Field(min_length=3)


class Area(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=2)
    title_inferred: bool = False
    plain_title: str = Field(min_length=2, description="Short child-facing name, e.g. 'Being heard'.")
    symbol: str = Field(pattern=SYMBOL_PATTERN)
    prompts: dict[Perspective, AreaPrompts] = Field(default_factory=dict)
    statements: tuple[Statement, ...] = Field(min_length=1)

    def asked(self, perspective: str, question_set: str) -> list[Statement]:
        return [
            s for s in self.statements if s.perspective == perspective and question_set in s.sets
        ]


class PerspectiveInfo(_Strict):
    label: str
    questions_required: bool = Field(
        default=False,
        description="When true, every statement of this perspective must carry a question.",
    )
    readers: Readers = Field(
        default="children", description="Who answers these questions: the plain-language bar their words must pass.",
    )


class Framework(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=3)
    source: Source
    perspectives: dict[Perspective, PerspectiveInfo]
    areas: tuple[Area, ...] = Field(min_length=1)
    crosswalk: dict[str, str] = Field(
        default_factory=dict,
        description="Area id here -> area id in another framework ('york.heard'), for comparison.",
    )

    @field_validator("areas")
    @classmethod
    def _unique_ids(cls, areas: tuple[Area, ...]) -> tuple[Area, ...]:
        seen: set[str] = set()
        for area in areas:
            for ident in [area.id, *(s.id for s in area.statements)]:
                if ident in seen:
                    raise ValueError(f"duplicate id '{ident}': every area and statement id must be unique")
                seen.add(ident)
        return areas

    @model_validator(mode="after")
    def _sets_are_whole(self) -> "Framework":
        for area in self.areas:
            if not area.id.startswith(self.id + "."):
                raise ValueError(f"area id '{area.id}' must start with '{self.id}.'")
            for st in area.statements:
                if not st.id.startswith(area.id + "."):
                    raise ValueError(f"statement id '{st.id}' must start with its area id '{area.id}.'")
                if st.perspective not in self.perspectives:
                    raise ValueError(
                        f"statement '{st.id}' uses perspective '{st.perspective}' that is not listed under 'perspectives'"
                    )
                if self.perspectives[st.perspective].questions_required and not st.sets:
                    raise ValueError(
                        f"statement '{st.id}' needs a question: give it 'question', 'symbol' and 'sets'"
                    )
                if st.mirrors is not None:
                    mirrored = next((s for s in area.statements if s.id == st.mirrors), None)
                    if mirrored is None or mirrored.perspective != CHILDREN or not mirrored.sets or not st.sets:
                        raise ValueError(
                            f"statement '{st.id}' mirrors '{st.mirrors}': name an asked '{CHILDREN}' statement"
                            " of the same area, and give this one a question too"
                        )
            for perspective, info in self.perspectives.items():
                if not info.questions_required:
                    continue
                core = area.asked(perspective, "core")
                if len(core) != 1:
                    raise ValueError(
                        f"area '{area.id}' must mark exactly one '{perspective}' statement as core (found {len(core)})"
                    )
                if perspective not in area.prompts:
                    raise ValueError(
                        f"area '{area.id}' needs 'prompts' for '{perspective}' (intro, anything_else, what_would_help)"
                    )
        return self

    # Lookups used by the chat engine and the staff side.
    def area(self, area_id: str) -> Area:
        for area in self.areas:
            if area.id == area_id:
                return area
        raise KeyError(area_id)

    def area_of(self, statement_id: str) -> Area:
        for area in self.areas:
            if any(st.id == statement_id for st in area.statements):
                return area
        raise KeyError(statement_id)

    def statement(self, statement_id: str) -> Statement:
        return next(st for st in self.area_of(statement_id).statements if st.id == statement_id)

    def questions(self, perspective: str, question_set: str) -> list[Statement]:
        """The statements asked, in order, for one perspective and question set."""
        return [st for area in self.areas for st in area.asked(perspective, question_set)]


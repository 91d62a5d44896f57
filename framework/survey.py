"""The order of a check-in, worked out from framework data alone.

A check-in is a list of steps: each asked statement of an area, then that area's two
optional comment prompts. A step has a stable key that the database keeps as the
session's position, so a break resumes at the same step even after a restart.
Nothing here knows about Rasa, or assumes the child perspective.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from framework.schema import Area, Framework, Statement

StepKind = Literal["question", "anything_else", "what_would_help"]
COMMENT_KINDS: tuple[StepKind, ...] = ("anything_else", "what_would_help")


@dataclass(frozen=True)
class Step:
    kind: StepKind
    area_id: str
    statement_id: str | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.statement_id or self.area_id}"

    @property
    def is_question(self) -> bool:
        return self.kind == "question"


@dataclass(frozen=True)
class Progress:
    question_number: int  # 1-based number of the current question (or of the last one, during comments)
    question_total: int
    areas_done: tuple[str, ...]
    area_total: int
    current_area: str | None

    def as_dict(self) -> dict:
        return {
            "question_number": self.question_number,
            "question_total": self.question_total,
            "areas_done": list(self.areas_done),
            "area_total": self.area_total,
            "current_area": self.current_area,
        }


class SurveyPlan:
    """The steps of one check-in: framework x perspective x question set."""

    def __init__(self, framework: Framework, perspective: str, question_set: str):
        if perspective not in framework.perspectives:
            raise ValueError(f"framework '{framework.id}' has no perspective '{perspective}'")
        self.framework = framework
        self.perspective = perspective
        self.question_set = question_set
        steps: list[Step] = []
        self.areas: list[Area] = []
        for area in framework.areas:
            asked = area.asked(perspective, question_set)
            if not asked:
                continue
            self.areas.append(area)
            steps.extend(Step("question", area.id, st.id) for st in asked)
            if perspective in area.prompts:
                steps.extend(Step(kind, area.id) for kind in COMMENT_KINDS)
        if not steps:
            raise ValueError(
                f"framework '{framework.id}' asks nothing for '{perspective}' in the '{question_set}' set"
            )
        self.steps: tuple[Step, ...] = tuple(steps)
        self._index = {step.key: i for i, step in enumerate(self.steps)}

    @property
    def questions(self) -> list[Statement]:
        return [self.framework.statement(s.statement_id) for s in self.steps if s.is_question]

    def first(self) -> Step:
        return self.steps[0]

    def step(self, key: str) -> Step:
        try:
            return self.steps[self._index[key]]
        except KeyError:
            raise KeyError(f"step '{key}' is not in this check-in") from None

    def after(self, key: str) -> Step | None:
        """The step that follows `key`, or None at the end."""
        i = self._index[key] + 1
        return self.steps[i] if i < len(self.steps) else None

    def question_step(self, statement_id: str) -> Step:
        return self.step(f"question:{statement_id}")

    def starts_area(self, key: str) -> bool:
        i = self._index[key]
        return i == 0 or self.steps[i - 1].area_id != self.steps[i].area_id

    def progress(self, key: str | None) -> Progress:
        """Where the young person is; key None means the check-in is over."""
        total = sum(1 for s in self.steps if s.is_question)
        area_ids = [a.id for a in self.areas]
        if key is None:
            return Progress(total, total, tuple(area_ids), len(area_ids), None)
        i = self._index[key]
        number = sum(1 for s in self.steps[: i + 1] if s.is_question)
        if self.steps[i].is_question:
            number = max(number, 1)
        current = self.steps[i].area_id
        done = tuple(a for a in area_ids[: area_ids.index(current)])
        return Progress(max(number, 1), total, done, len(area_ids), current)

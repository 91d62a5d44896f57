"""Labelled example comments, one file per framework (framework/examples/*.yml).

The comment mapper files a child's comment beside the examples it means most alike, so these
are data a council can add to: each example names the outcome area (or "none": not about any
outcome) and, for an area, the statement it speaks to. Loaded with errors that name the file
and line, and checked against the framework: every area and statement must exist.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator

from framework.loader import FrameworkError, _describe, _line_of, load_framework, load_yaml_model
from framework.schema import ID_PATTERN, Framework, Perspective, _Strict

EXAMPLES_DIR = Path(__file__).parent / "examples"
NONE = "none"


class Example(_Strict):
    text: str = Field(min_length=1)
    area: str = Field(pattern=ID_PATTERN, description="The area a SENCO would file it under, or 'none'.")
    statement: str | None = Field(default=None, pattern=ID_PATTERN)
    also: tuple[str, ...] = Field(default=(), description="Another area it is equally about (rare).")
    age: int | None = Field(default=None, ge=3, le=30, description="The age of the young person imagined.")

    @model_validator(mode="after")
    def _statement_goes_with_area(self) -> "Example":
        if self.area == NONE and self.statement:
            raise ValueError("an example about no outcome ('area: none') has no 'statement'; remove it")
        if self.area != NONE and not self.statement:
            raise ValueError("give the 'statement' this example speaks to")
        if self.statement and not self.statement.startswith(self.area + "."):
            raise ValueError(f"statement '{self.statement}' is not in area '{self.area}'")
        return self


class Examples(_Strict):
    framework: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    perspective: Perspective
    examples: tuple[Example, ...] = ()


def load_examples_file(path: str | Path, framework: Framework | None = None) -> Examples:
    """Read and check one examples file (against `framework`, default the one it names)."""
    path = Path(path)
    examples, tree = load_yaml_model(path, Examples)
    if framework is None:
        try:
            framework = load_framework(examples.framework)
        except FrameworkError:
            line = _line_of(tree, ("framework",)) or 1
            raise FrameworkError(path, [f"{path}:{line}: unknown framework '{examples.framework}'"]) from None
    problems = [
        f"{path}:{_line_of(tree, loc) or 1}: at {_describe(loc)}: {msg}"
        for loc, msg in _problems(examples, framework)
    ]
    if problems:
        raise FrameworkError(path, problems)
    return examples


def _problems(examples: Examples, framework: Framework):
    if examples.framework != framework.id:
        yield ("framework",), f"this file is for '{examples.framework}', not '{framework.id}'"
        return
    statements = {s.id for area in framework.areas for s in area.statements if s.perspective == examples.perspective}
    areas = {area.id for area in framework.areas}
    seen: dict[str, int] = {}
    for index, example in enumerate(examples.examples):
        at = ("examples", index)
        if example.area != NONE and example.area not in areas:
            yield at + ("area",), f"unknown area '{example.area}' in framework '{framework.id}'"
        elif example.statement and example.statement not in statements:
            yield at + ("statement",), f"unknown {examples.perspective} statement '{example.statement}'"
        for other in example.also:
            if other not in areas or other == example.area:
                yield at + ("also",), f"'also' must name another area of '{framework.id}', not '{other}'"
        key = " ".join(example.text.lower().split())
        if key in seen:
            yield at + ("text",), f"the same text as example {seen[key] + 1}; keep one"
        seen.setdefault(key, index)


@lru_cache(maxsize=None)
def load_examples(framework_id: str) -> Examples | None:
    """The bundled examples of one framework, or None when it has none (a council's new file)."""
    path = EXAMPLES_DIR / f"{framework_id}.yml"
    return load_examples_file(path) if path.is_file() else None

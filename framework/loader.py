"""Load and validate framework YAML files, with errors that name the file and line.

Councils edit these files by hand, so a mistake must say where it is and what to do,
never show a traceback.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from accessibility import plain_language
from accessibility.symbols import known_symbols
from framework.schema import Framework
from framework.settings import get_settings

FRAMEWORKS_DIR = Path(__file__).parent / "frameworks"
M = TypeVar("M", bound=BaseModel)


class FrameworkError(Exception):
    """A framework (or other content) file that cannot be used, with every problem found in it."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__("\n".join(problems))


def _line_of(tree: Any, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the deepest node along `loc` that the YAML tree knows."""
    line = None
    node = tree
    for key in loc:
        try:
            if isinstance(key, int) and hasattr(node, "lc") and isinstance(node, list):
                line = node.lc.item(key)[0] + 1
                node = node[key]
            elif hasattr(node, "lc") and isinstance(node, dict) and key in node:
                line = node.lc.key(key)[0] + 1
                node = node[key]
            else:
                break
        except (KeyError, IndexError, TypeError, AttributeError):
            break
    return line


def _describe(loc: tuple[Any, ...]) -> str:
    parts = []
    for key in loc:
        if isinstance(key, int):
            parts.append(f"[{key}]")
        else:
            parts.append(("." if parts else "") + str(key))
    return "".join(parts) or "(top level)"


def _path_within_tree(tree: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Pydantic adds model and union names to some locations; keep only real YAML keys."""
    kept = []
    node = tree
    for key in loc:
        if isinstance(node, list) and isinstance(key, int) and key < len(node):
            kept.append(key)
            node = node[key]
        elif isinstance(node, dict) and key in node:
            kept.append(key)
            node = node[key]
        elif isinstance(node, dict) and not isinstance(key, int):
            # a missing field: still worth naming
            kept.append(key)
            break
    return tuple(kept)


def load_yaml_model(path: str | Path, model: type[M]) -> tuple[M, Any]:
    """Read a YAML data file into a pydantic model; every problem names the file and line.

    Returns the model and the YAML tree (for checks that need line numbers later).
    """
    path = Path(path)
    if not path.is_file():
        raise FrameworkError(path, [f"{path}: no such file. Give the path to a .yml data file."])
    yaml = YAML(typ="rt")
    try:
        tree = yaml.load(path.read_text(encoding="utf-8"))
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise FrameworkError(path, [f"{where}: this is not valid YAML ({problem}). Check indentation and quotes."]) from None
    except UnicodeDecodeError:
        raise FrameworkError(path, [f"{path}: the file is not UTF-8 text. Save it as UTF-8."]) from None
    if not isinstance(tree, dict):
        raise FrameworkError(path, [f"{path}:1: the file must be a mapping of fields, not a list or a single value."])
    try:
        return model.model_validate(tree), tree
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = _path_within_tree(tree, tuple(err["loc"]))
            line = _line_of(tree, loc)
            where = f"{path}:{line}" if line else str(path)
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                msg = "this field is missing; add it"
            elif err["type"] == "extra_forbidden":
                msg = "unknown field; remove it or check its spelling"
            problems.append(f"{where}: at {_describe(loc)}: {msg}")
        raise FrameworkError(path, problems) from None


def located(path: Path, tree: Any, found: Iterable[tuple[tuple[Any, ...], str]]) -> list[str]:
    """Problems found in a loaded file's content, each as "file:line: at place: problem"."""
    return [f"{path}:{_line_of(tree, loc) or 1}: at {_describe(loc)}: {msg}" for loc, msg in found]


def load_checked(path: str | Path, model: type[M], content_problems: Callable[[M], Iterable[tuple[tuple[Any, ...], str]]]) -> M:
    """A YAML data file read into `model` (load_yaml_model), then checked by `content_problems`
    (what the model's types cannot say); any problem raises FrameworkError, each with its line."""
    path = Path(path)
    data, tree = load_yaml_model(path, model)
    problems = located(path, tree, content_problems(data))
    if problems:
        raise FrameworkError(path, problems)
    return data


def load_framework_file(path: str | Path) -> Framework:
    return load_checked(path, Framework, _content_problems)


def plain_bar(framework: Framework, perspective: str) -> plain_language.Bar:
    """How plain the words asked of one perspective must be: a child's bar, or an adult's."""
    info = framework.perspectives.get(perspective)
    return plain_language.ADULTS if info is not None and info.readers == "adults" else plain_language.CHILDREN


def _content_problems(framework: Framework):
    """What the typed models cannot know: symbols OpenMoji draws, and plain words for whoever answers."""
    symbols = known_symbols(get_settings().openmoji_dir)
    for a, area in enumerate(framework.areas):
        here = ("areas", a)
        if area.symbol not in symbols:
            yield here + ("symbol",), f"unknown symbol '{area.symbol}'; use an OpenMoji hexcode such as '1F44D'"
        for problem in plain_language.problems(area.plain_title):
            yield here + ("plain_title",), problem
        for perspective, prompts in area.prompts.items():
            for field in ("intro", "anything_else", "what_would_help"):
                for problem in plain_language.problems(getattr(prompts, field), plain_bar(framework, perspective)):
                    yield here + ("prompts", perspective, field), problem
        for s, st in enumerate(area.statements):
            at = here + ("statements", s)
            if st.symbol and st.symbol not in symbols:
                yield at + ("symbol",), f"unknown symbol '{st.symbol}'; use an OpenMoji hexcode such as '1F44D'"
            for field in ("question", "reworded", "example"):
                for problem in plain_language.problems(getattr(st, field) or "", plain_bar(framework, st.perspective)):
                    yield at + (field,), problem


def framework_files() -> dict[str, Path]:
    return {p.stem: p for p in sorted(FRAMEWORKS_DIR.glob("*.yml"))}


@lru_cache(maxsize=None)
def load_framework(framework_id: str) -> Framework:
    """A bundled framework by id (e.g. 'york'), loaded once per process."""
    files = framework_files()
    if framework_id not in files:
        known = ", ".join(files) or "none"
        raise FrameworkError(
            FRAMEWORKS_DIR / f"{framework_id}.yml",
            [f"unknown framework '{framework_id}'. Known frameworks: {known}."],
        )
    framework = load_framework_file(files[framework_id])
    if framework.id != framework_id:
        raise FrameworkError(files[framework_id], [f"{files[framework_id]}: 'id' is '{framework.id}' but the file name says '{framework_id}'."])
    return framework


def all_frameworks() -> dict[str, Framework]:
    return {fid: load_framework(fid) for fid in framework_files()}

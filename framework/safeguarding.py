"""Safeguarding categories as data (safeguarding_categories.yml): what the DSL reads, how serious
each is, and whether the SENCO may still see the child's words.

The web app's screen files disclosures under these ids; the database groups alerts by their
severity (both processes raise alerts, so this lives in framework/).
"""
from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from framework.loader import load_yaml_model

CATEGORIES_FILE = Path(__file__).with_name("safeguarding_categories.yml")


class SafeguardingCategory(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=3)
    severity: int = Field(ge=1, le=9)
    senco_sees: bool


class SafeguardingCategories(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    categories: tuple[SafeguardingCategory, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ids_once(self) -> "SafeguardingCategories":
        ids = [c.id for c in self.categories]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"each category once; listed twice: {', '.join(twice)}")
        return self

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.categories)

    @property
    def unranked(self) -> int:
        """The severity of a message with no known category (the model's signal alone): below all."""
        return max(c.severity for c in self.categories) + 1

    def label(self, category: str) -> str:
        found = self._by_id().get(category)
        return found.label if found else category.replace("_", " ").capitalize()

    def severity(self, categories: Iterable[str]) -> int:
        """The most serious (lowest) severity among `categories`; unranked when none is known."""
        known = self._by_id()
        return min((known[c].severity for c in categories if c in known), default=self.unranked)

    def senco_sees(self, categories: Iterable[str]) -> bool:
        """True only when every category is one the SENCO may see (and there is at least one)."""
        known = self._by_id()
        found = [known.get(c) for c in categories]
        return bool(found) and all(c is not None and c.senco_sees for c in found)

    def _by_id(self) -> dict[str, SafeguardingCategory]:
        return {c.id: c for c in self.categories}


@lru_cache(maxsize=1)
def safeguarding_categories() -> SafeguardingCategories:
    loaded, _ = load_yaml_model(CATEGORIES_FILE, SafeguardingCategories)
    return loaded

"""The screen's rules for the KCSIE categories it lacked (forced marriage and honour-based abuse,
FGM, young carers, a carer's drinking or drug use, coercive control in a young person's own
relationship, sextortion, radicalisation, criminal exploitation, missing from home): each rule's
disclosures alert under its category, and its look-alikes do not alert at all."""
from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from bot.safeguarding.screen import CATEGORIES, default_screener

EXAMPLES = YAML(typ="safe").load(
    (Path(__file__).resolve().parents[1] / "data" / "safeguarding_new_rules.yml").read_text(encoding="utf-8")
)["rules"]


def _cases(kind: str) -> list[tuple[str, str, str]]:
    return [(rule, spec["category"], text) for rule, spec in EXAMPLES.items() for text in spec[kind]]


def test_every_example_names_a_shipped_rule_and_category():
    shipped = {rule.id for rule in default_screener().rules.rules}
    for rule, spec in EXAMPLES.items():
        assert rule in shipped and spec["category"] in CATEGORIES
        assert len(spec["disclosures"]) >= 5 and len(spec["look_alikes"]) >= 4, rule


@pytest.mark.parametrize("rule, category, text", _cases("disclosures"))
def test_disclosure_alerts_under_the_rules_category(rule, category, text):
    result = default_screener().screen(text)
    assert category in result.categories, (rule, result)


@pytest.mark.parametrize("rule, category, text", _cases("look_alikes"))
def test_look_alike_does_not_alert(rule, category, text):
    result = default_screener().screen(text)
    assert not result.risk, (rule, result)

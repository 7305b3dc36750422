"""The portal's own check of `DuLieuBieuMau`, against the gateway's (`adapters.dvc`).

Two implementations of one rule: the portal refuses what the adapter refuses, so a filing the
bus lets through is never refused by the portal for its form, and the portal refuses the same
forms when called directly.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.dvc import check_form_data
from mocks.dvc.schemas import (
    MAX_FORM_DEPTH,
    MAX_FORM_ITEMS,
    MAX_FORM_KEYS,
    MAX_FORM_STRING,
    check_form,
)
from tests.unit.adapters.test_dvc_adapter import FORM_BOUNDS


@st.composite
def forms(draw: st.DrawFn) -> dict[str, Any]:
    """Forms around every bound at once: a chain of nested containers ending in a string, and
    keys and list items that sum, over the levels, to just under, at or just over the bounds."""
    chain = draw(st.lists(st.sampled_from(["object", "list"]), max_size=MAX_FORM_DEPTH + 1))
    node: Any = "x" * draw(st.sampled_from([0, MAX_FORM_STRING, MAX_FORM_STRING + 1]))
    for kind in reversed(chain):
        node = {"v": node} if kind == "object" else [node]
    keys = draw(st.integers(MAX_FORM_KEYS - 8, MAX_FORM_KEYS))
    items = draw(st.integers(MAX_FORM_ITEMS - 8, MAX_FORM_ITEMS))
    half = draw(st.integers(0, items))
    lists = [list(range(half)), list(range(items - half))]
    return {"chain": node, "lists": lists, **{f"k{n}": n for n in range(keys)}}


def refusal(check: Any, form: dict[str, Any]) -> str | None:
    try:
        check(form)
    except ValueError as error:
        return str(error)
    return None


@pytest.mark.parametrize(("form", "words"), FORM_BOUNDS)
def test_the_portal_refuses_the_forms_the_gateway_refuses(
    form: dict[str, Any], words: str | None
) -> None:
    refused = refusal(check_form, form)

    if words is None:
        assert refused is None
    else:
        assert refused is not None
        assert words in refused


@settings(max_examples=200)
@given(forms())
def test_portal_and_gateway_accept_exactly_the_same_forms(form: dict[str, Any]) -> None:
    assert (refusal(check_form, form) is None) == (refusal(check_form_data, form) is None)


def test_an_empty_object_past_the_depth_bound_is_still_too_deep() -> None:
    assert "levels deep" in (refusal(check_form, {"a": {"b": {"c": {"d": {"e": {}}}}}}) or "")


def test_keys_are_not_strings_the_length_bound_applies_to() -> None:
    assert refusal(check_form, {"k" * (MAX_FORM_STRING + 1): 1}) is None

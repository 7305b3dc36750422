"""`settle_heap`: what a server process does with its heap once the bus is built."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from lgsp.cli._serve import YOUNG_COLLECTION_THRESHOLD, settle_heap


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Nothing frozen during the test; after it, the collector as it was: its thresholds, and
    the heap frozen again if it was (the suite freezes what collection built, tests/conftest.py)."""
    frozen = gc.get_freeze_count() > 0
    gc.unfreeze()
    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)
    gc.unfreeze()
    if frozen:
        gc.freeze()


@pytest.mark.usefixtures("unfrozen")
def test_settle_heap_freezes_what_start_up_keeps() -> None:
    kept = [[n] for n in range(1000)]  # lists are tracked by the collector
    assert any(item is kept[0] for item in gc.get_objects())

    settle_heap()

    assert not any(item is kept[0] for item in gc.get_objects())  # out of every generation
    assert gc.get_freeze_count() >= len(kept)


@pytest.mark.usefixtures("unfrozen")
def test_settle_heap_turns_the_collector_on_again_without_walking_the_heap_first() -> None:
    """Start-up garbage is frozen with the rest (under 1 MB): a full collection before the
    first answer cost more than it frees. Garbage made afterwards is collected as usual."""
    gc.disable()  # as `lgsp serve` starts
    start_up, later = cycle(), None
    try:
        settle_heap()

        enabled = gc.isenabled()
        later = cycle()
        gc.collect()
    finally:
        gc.enable()

    assert enabled
    assert start_up() is not None  # frozen, not looked for
    assert later() is None


@pytest.mark.usefixtures("unfrozen")
def test_settle_heap_makes_young_collections_rarer() -> None:
    """Objects made before a young collection and freed after it count as never freed: with
    CPython's threshold of 700, the calls under way made one every ~20 calls (issue 21)."""
    gc.set_threshold(700, 10, 10)

    settle_heap()

    assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, 10, 10)
    assert YOUNG_COLLECTION_THRESHOLD >= 7000


def cycle() -> weakref.ref[Node]:
    """A weak reference to a cycle only the collector can free."""
    first, second = Node(), Node()
    first.other, second.other = second, first
    return weakref.ref(first)

"""`settle_heap`: what a server process does with its heap once the bus is built."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from lgsp.cli._serve import settle_heap


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """The test process's collector as it was: nothing frozen before or after."""
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen")
def test_settle_heap_freezes_what_start_up_keeps() -> None:
    kept = [[n] for n in range(1000)]  # lists are tracked by the collector
    assert any(item is kept[0] for item in gc.get_objects())

    settle_heap()

    assert not any(item is kept[0] for item in gc.get_objects())  # out of every generation
    assert gc.get_freeze_count() >= len(kept)


@pytest.mark.usefixtures("unfrozen")
def test_settle_heap_collects_start_up_garbage_instead_of_freezing_it() -> None:
    first, second = Node(), Node()
    first.other, second.other = second, first  # a cycle only the collector can free
    gone = weakref.ref(first)
    del first, second

    settle_heap()

    assert gone() is None

"""What the tests of the mock systems share: a stand-in for the bus that takes hand-overs."""

from __future__ import annotations

import pytest

from tests.fixtures.handovers import HandoverBus


@pytest.fixture
def handovers() -> HandoverBus:
    """The bus's store-and-forward as a mock meets it: records each hand-over, answers 202."""
    return HandoverBus()

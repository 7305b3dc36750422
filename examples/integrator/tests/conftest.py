"""The plugin comes with the package; this file only makes every test start from the seed."""

import pytest

from lgsp.testing import LgspBus


@pytest.fixture(autouse=True)
def fresh_bus(lgsp: LgspBus) -> LgspBus:
    """`lgsp` resets the session's bus before each test: no test sees another's dossiers."""
    return lgsp

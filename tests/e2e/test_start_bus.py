"""`lgsp.testing.start_bus`, as a program outside pytest uses it."""

from __future__ import annotations

from pathlib import Path

import pytest

from lgsp.testing import BusOptions, start_bus


@pytest.mark.parametrize("mode", ["inprocess", "port"])
def test_a_bus_that_cannot_start_says_why_in_either_mode(tmp_path: Path, mode: str) -> None:
    """In port mode uvicorn only logs the lifespan's error and exits its thread: the caller gets
    the error all the same (a signing key sealed with another data dir's secret; here a database
    whose folder is a file), and the port is closed (`filterwarnings = error` fails an open
    socket, and a thread's unhandled `SystemExit`)."""
    unreachable = tmp_path / "a-file" / "lgsp.db"
    unreachable.parent.write_text("not a directory")
    options = BusOptions(data_dir=tmp_path, mode=mode, database_url=f"sqlite:///{unreachable}")

    with pytest.raises(RuntimeError, match="the bus failed to start") as failed:
        start_bus(options).__enter__()

    assert isinstance(failed.value.__cause__, FileExistsError)
    assert str(unreachable.parent) in str(failed.value.__cause__)

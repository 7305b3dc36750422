"""Progress for long work, drawn on standard error when it is a terminal and never otherwise.

rich is imported only to draw: `lgsp serve` under a supervisor or in CI never pays for it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

from lgsp.cli._common import is_terminal

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


class CountProgress:
    """One bar per part of the work (an instance's audit records), for `audit export`."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def begin(self, name: str, total: int) -> None:
        if self._progress is not None:
            self._tasks[name] = self._progress.add_task(name, total=total)

    def advance(self, name: str, count: int) -> None:
        if self._progress is not None and name in self._tasks:
            self._progress.advance(self._tasks[name], count)


@contextmanager
def count_progress(stream: TextIO | None) -> Iterator[CountProgress]:
    """Bars with counts and time left on `stream` if it is a terminal; else (or with no
    stream) nothing at all."""
    if stream is None or not is_terminal(stream):
        yield CountProgress(None)
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(file=stream, force_terminal=True),
    )
    with progress:
        yield CountProgress(progress)


class Spinner:
    """Work whose steps the CLI cannot see (the bus seeding its mocks at start): what is being
    done and for how long, until `stop`."""

    def __init__(self, description: str, stream: TextIO | None = None) -> None:
        stream = stream or sys.stderr
        self._progress: Progress | None = None
        if is_terminal(stream):
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=Console(file=stream, force_terminal=True),
                transient=True,  # gone before the banner is printed
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._progress.add_task(description, total=None)

    def start(self) -> None:
        if self._progress is not None:
            self._progress.start()

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

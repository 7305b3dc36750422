"""`lgsp serve --system`: the arguments it refuses, before anything starts (exit status 2)."""

from __future__ import annotations

import pytest

from lgsp.cli import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--system", "qlvb"], "exactly one --instance", id="no-instance"),
        pytest.param(
            ["--system", "qlvb", "--instance", "kiengiang", "--instance", "ndxp"],
            "exactly one --instance",
            id="two-instances",
        ),
        pytest.param(
            ["--system", "qlvb", "--instance", "atlantis"], "no instance 'atlantis'", id="instance"
        ),
        pytest.param(
            ["--system", "vdxp", "--instance", "kiengiang"],
            "kiengiang has no system 'vdxp'",
            id="not-its-system",
        ),
    ],
)
def test_a_system_it_cannot_place_is_refused_as_bad_arguments(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", *argv]) == 2

    assert message in capsys.readouterr().err

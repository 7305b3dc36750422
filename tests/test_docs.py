"""The README's promises: two set-up commands, the same test command as CI, a true layout."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```(?:sh|bash|console)?\n(.*?)```", section, re.S)
    assert block is not None, "the quick start has a code block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_quick_start_has_exactly_two_commands_run_and_test() -> None:
    assert quick_start_commands() == ["make run", "make test"]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")

    assert re.search(r"^make test$", ci, re.M)


def test_makefile_targets_exist_for_the_quick_start() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")

    assert re.search(r"^run: .*\n\t\$\(BIN\)/lgsp serve\b", makefile, re.M)
    assert re.search(r"^PYTEST := (?:[A-Z_]+=\S+ )*\$\(BIN\)/pytest ", makefile, re.M)
    assert re.search(r"^test: .*\n\t\$\(PYTEST\) ", makefile, re.M)


@pytest.mark.parametrize(
    ("variables", "command"),
    [([], "lgsp serve"), (["PORT=9000"], "lgsp serve --port 9000")],
)
def test_make_run_takes_a_port(variables: list[str], command: str) -> None:
    """`make run PORT=9000`, as the README says; plain `make run` keeps the default port."""
    planned = subprocess.run(  # noqa: S603 - make, dry run: prints the commands, runs none
        ["make", "-n", "-C", str(ROOT), "run", *variables],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert re.search(rf"\.venv/bin/{command}$", planned, re.M), planned
    assert "make run PORT=9000" in README


def test_ci_runs_the_readmes_test_command_and_every_slower_tier() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")

    assert re.search(r"^make test\b", README, re.M)
    for target in (
        "make check",
        "make test",
        "make test-processes",
        "make test-browser",
        "make test-pg",
    ):
        assert re.search(rf"^\s*{target}$", ci, re.M), target


def test_readme_layout_names_folders_that_exist() -> None:
    layout = README.split("## Layout", 1)[1].split("\n## ", 1)[0]
    folders = re.findall(r"^`([a-z_./]+)/`", layout, re.M)

    assert folders, "the layout section lists folders"
    for folder in folders:
        assert (ROOT / folder).is_dir(), folder


def test_configuration_table_lists_every_setting() -> None:
    from lgsp.settings import Settings

    for name in Settings.model_fields:
        assert f"LGSP_{name.upper()}" in README, name


def test_readme_examples_use_seeded_citizens_with_their_recorded_details() -> None:
    """The curl examples must work on a fresh `make run` (seed 2024, Kiên Giang)."""
    import json

    from formats.dates import parse_ddmmyyyy
    from lgsp.settings import Settings
    from mocks.dancu.seed import generate_citizens

    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    seeded = {
        c.so_dinh_danh: c
        for c in generate_citizens(
            province_code="91", seed=defaults.seed, count=defaults.population
        )
    }
    numbers = set(re.findall(r"\b091\d{9}\b", README))
    claims = [json.loads(m) for m in re.findall(r"-d '(\{\"cccd\".*?\})'", README)]

    assert numbers
    assert numbers <= set(seeded)
    for claim in claims:
        citizen = seeded[claim["cccd"]]
        assert claim["full_name"] == citizen.ho_va_ten
        assert claim["date_of_birth"] == parse_ddmmyyyy(citizen.ngay_thang_nam_sinh).isoformat()

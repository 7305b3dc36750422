"""`lgsp --help` and every command's help speak to a user: no issue numbers of ours."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator

from lgsp.cli import _parser


def every_parser(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from every_parser(child)


def test_no_help_text_names_an_issue() -> None:
    helps = {parser.prog: parser.format_help() for parser in every_parser(_parser())}

    assert len(helps) > 10
    named = {prog: text for prog, text in helps.items() if re.search(r"\bissue\s*\d", text, re.I)}
    assert named == {}

"""The stylesheets are whole: every block closed where it was opened.

A rule block left open (a merge dropping one `}`) makes the browser read every rule after it as
part of that block, so whole pages lose their layout without any error anywhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = sorted((Path(__file__).resolve().parents[1] / "app" / "static" / "css").glob("*.css"))


def _depths(text: str):
    """(line, problem) for every block that is not closed where it should be. An at-rule (@media
    inside @supports) may nest; a rule inside a plain rule may not."""
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    text = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'', '""', text)
    stack: list[bool] = []  # for each open block: is it an at-rule (which may hold rules)?
    statement, line = "", 1
    for char in text:
        if char == "\n":
            line += 1
        if char == "{":
            at_rule = statement.strip().startswith("@")
            if stack and not stack[-1]:
                yield line, "a block opens inside a rule (a } is missing above)"
            stack.append(at_rule)
            statement = ""
        elif char == "}":
            if not stack:
                yield line, "a } closes nothing"
            else:
                stack.pop()
            statement = ""
        elif char == ";":
            statement = ""
        else:
            statement += char
    if stack:
        yield "end", f"{len(stack)} block(s) never closed"


@pytest.mark.parametrize("path", CSS, ids=[p.name for p in CSS])
def test_every_block_is_closed(path):
    assert CSS, "no stylesheets found"
    assert list(_depths(path.read_text(encoding="utf-8"))) == []

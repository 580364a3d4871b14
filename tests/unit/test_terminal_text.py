"""The terminal's safe text: what a colour terminal receives when stored text is hostile."""

from __future__ import annotations

import io
import json
import re

from rich.table import Table
from rich.text import Text

from syndicator.cli.terminal import SafeConsole, json_text, line, styled, visible

HOSTILE = "ok\x1b[2J\rgone\u202eevil\x9b31m\x00[link=https://evil.example]x[/link] :warning:"
SGR = re.compile(r"\x1b\[[0-9;]*m")  # rich's own colours: the only escapes allowed through


def _colour_console() -> tuple[SafeConsole, io.StringIO]:
    buffer = io.StringIO()
    return SafeConsole(file=buffer, force_terminal=True, color_system="truecolor", width=200), buffer


def test_visible_writes_control_characters_as_escapes() -> None:
    assert visible(HOSTILE) == (
        "ok\\x1b[2J\\x0dgone\\u202eevil\\x9b31m\\x00[link=https://evil.example]x[/link] :warning:"
    )
    assert visible("two\nlines\tand a tab") == "two\nlines\tand a tab"
    assert visible("two\nlines", layout=False) == "two\\x0alines"
    assert visible("tag \U000e0041") == "tag \\U000e0041"


def test_a_colour_terminal_gets_only_rich_colours() -> None:
    console, buffer = _colour_console()
    table = Table()
    table.add_column("reason")
    table.add_row(HOSTILE)  # a plain string cell
    table.add_row(Text(HOSTILE))  # a Text built without terminal.plain(): the last pass catches it
    console.print(table)
    console.print(HOSTILE, markup=True)  # asking for markup does not make stored text markup
    console.print(line(styled("error:", "bold red"), " ", HOSTILE))
    output = buffer.getvalue()
    assert SGR.search(output)  # colours are on
    without_colours = SGR.sub("", output)
    assert "\x1b" not in without_colours and "\u202e" not in without_colours
    assert "\x9b" not in output and "\x00" not in output and "\r" not in output
    assert "\x1b]8;" not in output  # no hyperlink
    assert without_colours.count("[link=https://evil.example]x[/link] :warning:") == 4


def test_json_text_is_terminal_safe_and_decodes_to_the_same_values() -> None:
    data = {"reason": HOSTILE, "tag \U000e0041": ["\u2028", "£ — ü", "\x7f"]}
    dumped = json_text(data)
    assert json.loads(dumped) == data
    assert all(c == "\n" or c.isprintable() for c in dumped)
    assert "£ — ü" in dumped  # readable text stays readable

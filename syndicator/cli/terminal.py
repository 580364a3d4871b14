"""Safe text for the terminal: every command prints through these consoles, so text that came
from users or channels (reasons, titles, remote ids, error messages) can neither be read as
rich markup nor reach the terminal with control characters in it.

    str printed or put in a table  -> literal text: never markup, emoji codes or highlighting;
                                      control characters shown as escapes (ESC -> \\x1b)
    styling                        -> `styled(text, style)` / `line(...)`: rich Text objects,
                                      built from literal text
    every segment, last of all     -> control characters made visible again, so a Text built
                                      elsewhere cannot smuggle an escape sequence through

Newline and tab keep their meaning (multi-line error messages stay readable). Rich's own
styling escapes are control *segments* and pass untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from rich.console import Console, ConsoleOptions, ConsoleRenderable, RichCast
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from syndicator.domain.controls import first_control, is_control

LAYOUT = "\n\t"


def _escaped(char: str) -> str:
    number = ord(char)
    if number <= 0xFF:
        return f"\\x{number:02x}"
    return f"\\u{number:04x}" if number <= 0xFFFF else f"\\U{number:08x}"


def visible(text: str, *, layout: bool = True) -> str:
    """`text` with every control character written as an escape (`layout`: keep \\n and \\t)."""
    allowed = LAYOUT if layout else ""
    if first_control(text, allowed) is None:
        return text
    return "".join(_escaped(c) if c not in allowed and is_control(c) else c for c in text)


def plain(value: object) -> Text:
    """Any value as literal, visible text."""
    return Text(visible("" if value is None else str(value)))


def styled(value: object, style: str | Style) -> Text:
    """Literal, visible text in a style (the only way commands colour anything)."""
    return Text(visible("" if value is None else str(value)), style=style)


def line(*parts: str | Text) -> Text:
    """One piece of output from parts: a str is literal text, a Text keeps its style."""
    joined = Text()
    for part in parts:
        joined.append(part if isinstance(part, Text) else plain(part))
    return joined


class SafeConsole(Console):
    """A rich console that treats every string as literal text and never lets a control
    character through (see the module docstring)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(markup=False, emoji=False, highlight=False, **options)

    def render_str(
        self,
        text: str,
        *,
        style: str | Style = "",
        justify: Any = None,
        overflow: Any = None,
        emoji: bool | None = None,
        markup: bool | None = None,
        highlight: bool | None = None,
        highlighter: Callable[[str | Text], Text] | None = None,
    ) -> Text:
        """A string as literal, visible text, whatever the caller asked for."""
        return super().render_str(
            visible(text),
            style=style,
            justify=justify,
            overflow=overflow,
            emoji=False,
            markup=False,
            highlight=False,
            highlighter=highlighter,
        )

    def render(
        self, renderable: ConsoleRenderable | RichCast | str, options: ConsoleOptions | None = None
    ) -> Iterable[Segment]:
        """Rich's segments, with control characters in text segments made visible."""
        for segment in super().render(renderable, options):
            if segment.control or first_control(segment.text, LAYOUT) is None:
                yield segment
            else:
                yield Segment(visible(segment.text), segment.style, segment.control)


def _json_escape(char: str) -> str:
    number = ord(char)
    if number <= 0xFFFF:
        return f"\\u{number:04x}"
    number -= 0x10000  # above the BMP JSON needs a surrogate pair (RFC 8259 section 7)
    return f"\\u{0xD800 + (number >> 10):04x}\\u{0xDC00 + (number & 0x3FF):04x}"


def json_text(data: Any) -> str:
    """`data` as indented JSON that is safe on a terminal and still decodes to the same values.

    `json.dumps` escapes C0 controls but writes DEL, C1 controls and format characters (bidi
    overrides) raw; those can only occur inside strings, where a \\u escape means the same."""
    import json

    dumped = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    if first_control(dumped, "\n") is None:
        return dumped
    return "".join(_json_escape(c) if c != "\n" and is_control(c) else c for c in dumped)

"""Characters that are not text: the one definition shared by input checks (a reason is one
line of plain text) and by the terminal (stored text is printed with them made visible).

    Cc   C0 controls, DEL and C1 controls: ESC starts terminal escape sequences, CR overwrites
         a line, and 8-bit CSI (U+009B) is a terminal escape on its own
    Cf   format characters: bidirectional overrides and isolates reorder what a reader sees
         ("Trojan Source", CVE-2021-42574), zero-width characters hide text
    Zl   line separator, Zp paragraph separator: a line break by another name
    Cs   lone surrogates: cannot even be encoded to UTF-8
"""

from __future__ import annotations

import unicodedata

CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def is_control(char: str) -> bool:
    """True for a character that is not text (see the module docstring)."""
    return unicodedata.category(char) in CATEGORIES


def first_control(text: str, allowed: str = "") -> str | None:
    """The first control character of `text` that is not in `allowed`, or None."""
    if text.isprintable():  # the common case, in C: no Cc, Cf, Zl, Zp or Cs at all
        return None
    for char in text:
        if char not in allowed and is_control(char):
            return char
    return None


def code_point(char: str) -> str:
    """'U+001B' for ESC: how a message names a character a person cannot see."""
    return f"U+{ord(char):04X}"

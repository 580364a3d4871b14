"""The stylesheet's palette meets WCAG 2.2 AA contrast for every pair the pages use: text at least
4.5:1 (1.4.3), and what shows a control or the focus at least 3:1 against what surrounds it
(1.4.11). The browser audit measures the text it renders; this also covers what axe-core cannot
see: hover backgrounds, focus rings, the borders of fields and buttons."""

from __future__ import annotations

import re

import pytest

from syndicator.domain.states import State
from syndicator.web.rendering import HERE

CSS = (HERE / "static" / "app.css").read_text()
TEXT, UI = 4.5, 3.0
# Every delivery state has a colour and a tint, including any added later.
STATES = [state.value for state in State]
PAGE = ["bg", "card", "subtle", "row-hover"]  # where ordinary text sits
WHITE = "#ffffff"


def palette() -> dict[str, str]:
    """The custom properties of :root, by name without the dashes."""
    root = re.search(r":root\s*\{(.*?)\n\}", CSS, re.S)
    assert root, "app.css has no :root block"
    return {
        name: value.lower() for name, value in re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", root.group(1))
    }


def luminance(colour: str) -> float:
    """Relative luminance, WCAG 2.2's definition."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    """The contrast ratio of two #rrggbb colours."""
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def pairs() -> list[tuple[str, str, float]]:
    """(foreground, background, minimum) for every combination the stylesheet draws."""
    found = [(ink, place, TEXT) for ink in ("ink", "ink-2", "muted", "link") for place in PAGE]
    found += [("link", f"{state}-bg", TEXT) for state in ("failed", "retry_wait", "sending", "published")]
    found += [("muted", f"{state}-bg", TEXT) for state in STATES]  # times and notes inside messages
    found += [(state, f"{state}-bg", TEXT) for state in STATES]  # badges, chips, stat tiles
    found += [(state, place, TEXT) for state in STATES for place in ("card", "row-hover")]  # outcomes
    found += [
        (WHITE, state, TEXT) for state in ("failed", "needs_reconcile", "published", "retry_wait", "sending")
    ]
    found += [(WHITE, "link", TEXT), (WHITE, "brand", TEXT)]  # primary buttons, count pills, icons
    found += [(ink, f"{state}-bg", TEXT) for ink, state in (("ok-ink", "published"), ("error-ink", "failed"))]
    found += [
        ("warn-ink", "retry_wait-bg", TEXT),
        ("info-ink", "sending-bg", TEXT),
        ("code-ink", "code-bg", TEXT),
    ]
    found += [("ink", "button-hover", TEXT), ("failed", "button-hover", TEXT)]
    found += [
        (ink, bar, TEXT)
        for ink in ("on-brand", "on-brand-2", "brand-note")
        for bar in ("brand", "brand-hover")
    ]
    found += [("on-brand", "brand-raised", TEXT)]
    found += [("field", place, UI) for place in ("bg", "card", "subtle")]  # field, button and tile edges
    found += [("failed", "card", UI)]  # a danger button's edge
    found += [("focus", place, UI) for place in [*PAGE, "published-bg", "failed-bg"]]
    found += [("focus-on-brand", "brand", UI), ("brand-mark", "brand-raised", UI)]
    return found


@pytest.mark.parametrize(("foreground", "background", "minimum"), pairs())
def test_every_colour_pair_is_readable(foreground: str, background: str, minimum: float) -> None:
    colours = palette() | {WHITE: WHITE}
    missing = [name for name in (foreground, background) if name not in colours]
    assert not missing, f"app.css defines no {missing} in :root (a new state needs a colour and a -bg tint)"
    ratio = contrast(colours[foreground], colours[background])
    assert ratio >= minimum, f"--{foreground} on --{background}: {ratio:.2f}:1, needs {minimum}:1"


def test_the_audit_knew_the_old_palette_failed() -> None:
    # The greys and teal this palette replaced (issue 15): the check must reject them.
    assert contrast("#718096", "#f5f6f8") < TEXT  # muted text on the page
    assert contrast("#0f7b8a", "#e0f6f8") < TEXT  # the submitted badge
    assert contrast("#7b8494", "#f0f1f3") < TEXT  # the cancelled badge

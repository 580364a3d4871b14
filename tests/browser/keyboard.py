"""Using the dashboard with the keyboard alone (WCAG 2.1.1), and checking every place the focus
lands on the way: the control shows a focus ring at least 2 px wide that no scrolling box clips
(2.4.7), it is on screen, and nothing (a sticky bar, a dialog) covers it (2.4.11).

    kb = Keyboard(page)
    kb.tab_to(page.get_by_role("link", name="Failed"))      # Tab until it has the focus
    kb.press("Enter")
    kb.fill(page.get_by_label("Reason for re-pushing delivery 42"), "portal fixed")

Locators only name the target; nothing is clicked or filled programmatically. A journey (a task
done start to finish, like a re-push) is a function of a Keyboard in tests/browser/journeys.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

FOCUS = """mark => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  // A sweep marks each stop, so it knows when the focus comes round to one it has seen.
  const seen = !!mark && el.dataset.kbSweep === mark;
  if (mark) el.dataset.kbSweep = mark;
  const box = el.getBoundingClientRect();
  const style = getComputedStyle(el);
  const width = document.documentElement.clientWidth, height = document.documentElement.clientHeight;
  const ringWidth = style.outlineStyle === "none" ? 0 : parseFloat(style.outlineWidth) || 0;
  // What a pointer at the control's centre would hit: the control itself, or what covers it.
  const x = Math.min(Math.max(box.left + box.width / 2, 0), width - 1);
  const y = Math.min(Math.max(box.top + box.height / 2, 0), height - 1);
  const hit = document.elementFromPoint(x, y);
  const covered = !!hit && !(hit === el || el.contains(hit) || hit.contains(el));
  // A box that scrolls or hides its overflow cuts off any part of the ring outside it.
  const reach = Math.max(ringWidth + (parseFloat(style.outlineOffset) || 0), 0);  // beyond the box
  let clippedBy = null;
  for (let up = el.parentElement; up && !clippedBy; up = up.parentElement) {
    const s = getComputedStyle(up);
    if (s.overflowX === "visible" && s.overflowY === "visible") continue;
    const edge = up.getBoundingClientRect();
    const inside = box.left - reach >= edge.left - 0.5 && box.right + reach <= edge.right + 0.5
      && box.top - reach >= edge.top - 0.5 && box.bottom + reach <= edge.bottom + 0.5;
    if (!inside) clippedBy = up.tagName.toLowerCase() + (up.className ? "." + up.className : "");
  }
  const name = (el.getAttribute("aria-label") || (el.labels && el.labels[0] && el.labels[0].textContent)
    || el.textContent || el.getAttribute("name") || "").trim().replace(/\\s+/g, " ").slice(0, 60);
  return {
    element: el.tagName.toLowerCase() + (el.id ? "#" + el.id : ""), name,
    ring: ringWidth, onScreen: box.bottom > 0 && box.top < height && box.right > 0 && box.left < width,
    covered: covered ? hit.tagName.toLowerCase() + (hit.className ? "." + hit.className : "") : null,
    clippedBy, seen,
  };
}"""


@dataclass(frozen=True)
class Stop:
    """Where the focus is, and what a sighted keyboard user sees of it."""

    element: str
    name: str
    ring: float
    on_screen: bool
    covered: str | None
    clipped_by: str | None
    seen: bool = False  # already reached in this sweep

    @classmethod
    def read(cls, found: dict[str, Any]) -> Stop:
        """From the FOCUS script's answer."""
        return cls(
            found["element"],
            found["name"],
            found["ring"],
            found["onScreen"],
            found["covered"],
            found["clippedBy"],
            found["seen"],
        )

    def problems(self) -> list[str]:
        """Why a person could not see that this control has the focus (empty when they can)."""
        found = []
        if self.ring < 2:
            found.append(f"no focus ring (outline {self.ring} px)")
        if not self.on_screen:
            found.append("off screen")
        if self.covered:
            found.append(f"covered by {self.covered}")
        if self.clipped_by:
            found.append(f"its focus ring is cut off by {self.clipped_by}")
        return found

    def __str__(self) -> str:
        return f"{self.element} {self.name!r}"


class Keyboard:
    """A page driven by key presses only, checking each focus stop as it goes."""

    def __init__(self, page: Page, limit: int = 250) -> None:
        self.page = page
        self.limit = limit  # Tab presses before giving up on reaching a target
        self.sweeps = 0

    def focused(self, mark: str = "") -> Stop | None:
        """The control with the focus, or None when it is on the page itself."""
        found = self.page.evaluate(FOCUS, mark)
        return Stop.read(found) if found else None

    def tab(self, backwards: bool = False, mark: str = "") -> Stop | None:
        """Press Tab (or Shift+Tab) and check that the new stop can be seen."""
        self.page.keyboard.press("Shift+Tab" if backwards else "Tab")
        stop = self.focused(mark)
        if stop is not None and (problems := stop.problems()):
            raise AssertionError(f"{self.page.url}: focus on {stop}: {', '.join(problems)}")
        return stop

    def has_focus(self, target: Locator) -> bool:
        """Whether `target` is the focused element."""
        return bool(target.evaluate("el => el === document.activeElement"))

    def tab_to(self, target: Locator, backwards: bool = False) -> None:
        """Tab (or Shift+Tab) until `target` has the focus, checking every stop on the way."""
        trail: list[str] = []
        for _ in range(self.limit):
            stop = self.tab(backwards)
            if self.has_focus(target):
                return
            trail.append(str(stop))
        raise AssertionError(
            f"{self.page.url}: {self.limit} presses of {'Shift+' if backwards else ''}Tab never reached "
            f"{target}; the last stops were {trail[-8:]}"
        )

    def press(self, key: str) -> None:
        """Press one key (Enter, Space, Escape ...) where the focus is."""
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        """Type into the focused control."""
        self.page.keyboard.type(text)

    def fill(self, field: Locator, text: str) -> None:
        """Tab to a text field and type into it."""
        self.tab_to(field)
        self.type(text)

    def follow(self, link: Locator, backwards: bool = False) -> None:
        """Tab to a link (or button) and press Enter; waits for the page it leads to."""
        self.tab_to(link, backwards)
        with self.page.expect_navigation():
            self.press("Enter")

    def sweep(self, backwards: bool = False) -> list[Stop]:
        """Tab round the whole page from where the focus is, until it comes back to a control
        already reached (Chromium wraps from the last to the first), checking every stop."""
        mark = f"{'back' if backwards else 'forth'}-{id(self)}-{self.sweeps}"
        self.sweeps += 1
        stops: list[Stop] = []
        for pressed in range(self.limit * 2):
            stop = self.tab(backwards, mark)
            if stop is not None and stop.seen:
                return stops
            if stop is None and not stops and pressed >= 3:
                return stops  # nothing on the page takes the focus (a printable list)
            if stop is not None:
                stops.append(stop)
        raise AssertionError(f"{self.page.url}: still tabbing after {len(stops)} stops")

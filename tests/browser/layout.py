"""What a page's layout looks like in the browser, measured: sideways scrolling, the main
navigation's links, content that sticks out past the window, tables wider than their box."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Page

# Elements that pass the window's right edge, or are cut off by a box that hides its overflow
# (a card with rounded corners). Inside a box that scrolls, content may be wider than the box.
STICKING_OUT = """() => {
  const width = document.documentElement.clientWidth;
  const clipper = el => {
    for (let up = el.parentElement; up; up = up.parentElement) {
      const x = getComputedStyle(up).overflowX;
      if (x !== "visible") return {box: up, scrolls: x === "auto" || x === "scroll"};
    }
    return null;
  };
  const found = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || el.closest(".visually-hidden")) continue;
    const around = clipper(el);
    const hidden = around && around.box.getBoundingClientRect();
    if (hidden && (hidden.width <= 1 || hidden.height <= 1)) continue;  // hidden for screen readers
    const edge = around ? around.box.getBoundingClientRect().right : width;
    if (box.right <= Math.min(edge, width) + 1 || (around && around.scrolls)) continue;
    const classes = typeof el.className === "string" ? el.className.trim().split(/\\s+/) : [];
    const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + classes.map(c => "." + c).join("");
    const text = (el.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 40);
    const limit = Math.round(Math.min(edge, width));
    found.push(`${name} (${text}) reaches ${Math.round(box.right)} px, past ${limit} px`);
  }
  return found.slice(0, 10);
}"""

# Each main navigation link: on screen, not covered, not clipped by its container.
NAVIGATION = """() => [...document.querySelectorAll('nav[aria-label="Main"] a')].map(a => {
  const box = a.getBoundingClientRect();
  const x = box.left + box.width / 2, y = box.top + box.height / 2;
  const hit = document.elementFromPoint(x, y);
  return {
    text: a.textContent.trim().replace(/\\s+/g, " "),
    width: box.width, height: box.height, left: box.left, right: box.right,
    reachable: !!hit && (hit === a || a.contains(hit)),
  };
})"""

# Other controls in the top bar that must stay on screen: who is signed in, and Sign out.
ACCOUNT = """() => [...document.querySelectorAll('.me .who, .me button')].map(el => {
  const box = el.getBoundingClientRect();
  const text = el.textContent.trim().replace(/\\s+/g, " ");
  return {text, left: box.left, right: box.right, width: box.width};
})"""

WIDE_TABLES = """() => [...document.querySelectorAll('.table-wrap')]
  .filter(w => w.scrollWidth > w.clientWidth + 1)
  .map(w => `${w.dataset.scrollLabel}: ${w.scrollWidth} px of content in ${w.clientWidth} px`)"""


def sideways_scroll(page: Page) -> int:
    """How many CSS pixels the page scrolls sideways (0 when it fits the window)."""
    root = "document.documentElement"
    return int(page.evaluate(f"() => {root}.scrollWidth - {root}.clientWidth"))


def sticking_out(page: Page) -> list[str]:
    """Elements that pass the window's right edge without a scrolling box around them."""
    return list(page.evaluate(STICKING_OUT))


def navigation(page: Page) -> list[dict[str, Any]]:
    """The main navigation's links with their boxes and whether a pointer could reach them."""
    return list(page.evaluate(NAVIGATION))


def account(page: Page) -> list[dict[str, Any]]:
    """The signed-in name and the Sign out button, with their boxes."""
    return list(page.evaluate(ACCOUNT))


def wide_tables(page: Page) -> list[str]:
    """Tables whose content is wider than their box (they scroll sideways inside it)."""
    return list(page.evaluate(WIDE_TABLES))


def lost_table_semantics(page: Page) -> list[str]:
    """Where Chromium's accessibility tree (what a screen reader gets) has fewer tables or
    column headers than the page's markup: a table laid out as cards must still be a table."""
    counts = page.evaluate(
        "() => ({table: document.querySelectorAll('table').length,"
        " columnheader: document.querySelectorAll('thead th').length})"
    )
    session = page.context.new_cdp_session(page)
    try:
        nodes = session.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        session.detach()
    roles = [n.get("role", {}).get("value") for n in nodes if not n.get("ignored")]
    return [
        f"{role}: {roles.count(role)} for screen readers, {expected} in the page"
        for role, expected in counts.items()
        if roles.count(role) < expected
    ]

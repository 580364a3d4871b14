"""axe-core in the page under test: inject the vendored copy (never a CDN), run the WCAG 2.0,
2.1 and 2.2 level A and AA rules, and describe any violation so a failure reads on its own:

    /tenders/42 (operator, 1280 px): 2 violations
      color-contrast [serious] Elements must meet minimum color contrast ratio thresholds
        .badge.s-submitted  -- Element has insufficient color contrast of 4.43 (...)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
# WCAG 2.2 added one AA rule axe can test (target size); 2.2 A has none axe tests yet.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

RUN = """tags => axe.run(document, {
  runOnly: {type: "tag", values: tags},
  resultTypes: ["violations"],
}).then(r => r.violations.map(v => ({
  id: v.id, impact: v.impact, help: v.help,
  nodes: v.nodes.map(n => ({target: n.target.map(String).join(" "), summary: n.failureSummary || ""})),
})))"""


@dataclass(frozen=True)
class Violation:
    """One axe rule broken on one page, with every element that breaks it."""

    rule: str
    impact: str
    help: str
    nodes: list[dict[str, str]]

    def describe(self) -> str:
        """`rule [impact] help` and one line per element: its selector and why it fails."""
        lines = [f"  {self.rule} [{self.impact}] {self.help}"]
        for node in self.nodes[:12]:
            why = " ".join(node["summary"].split())
            lines.append(f"    {node['target']}  -- {why[:240]}")
        if len(self.nodes) > 12:
            lines.append(f"    ... and {len(self.nodes) - 12} more elements")
        return "\n".join(lines)


def open_disclosures(page: Page) -> None:
    """Open every <details>, so what hides behind a summary is audited too; returns once the
    page has handled the toggles (app.js re-measures scroll regions on the next frame)."""
    page.evaluate(
        """() => new Promise(done => {
          document.querySelectorAll('details').forEach(d => { d.open = true; });
          setTimeout(() => requestAnimationFrame(() => requestAnimationFrame(done)), 0);
        })"""
    )


def install(context: BrowserContext) -> None:
    """Load axe-core into every page the context opens, before the page's own scripts.

    Not `page.add_script_tag`: that adds an inline <script>, which the dashboard's
    Content-Security-Policy (script-src 'self') rightly refuses, and switching the policy off
    (`bypass_csp`) would audit a page no user ever sees. Init scripts run outside the policy."""
    context.add_init_script(path=str(AXE_JS))


def scan(page: Page) -> list[Violation]:
    """Run axe-core's WCAG A and AA rules on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        raise RuntimeError("axe-core is not in this page: open it with open_page(..., audit=True)")
    found: list[dict[str, Any]] = page.evaluate(RUN, TAGS)
    return [Violation(v["id"], v["impact"] or "unknown", v["help"], v["nodes"]) for v in found]


def report(where: str, violations: list[Violation]) -> str:
    """A readable block for one page; empty when it has no violation."""
    if not violations:
        return ""
    body = "\n".join(v.describe() for v in violations)
    return f"{where}: {len(violations)} violation{'s' if len(violations) > 1 else ''}\n{body}"

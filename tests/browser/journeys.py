"""Tasks done start to finish with the keyboard alone, one function each, built from the steps
of tests/browser/keyboard.py: sign in, re-push a failed delivery, amend a tender (the record
edited in its text area) and withdraw one (through its confirmation page), each ending with
`expect_outcome`. tests/browser/test_keyboard.py runs them.
"""

from __future__ import annotations

import json
from typing import Any

from tests.browser.keyboard import Keyboard


def sign_in(kb: Keyboard, base: str, token: str) -> None:
    """Open the sign-in page (typing its address is the one step not on the page) and sign in;
    the token field has the focus when the page opens."""
    kb.page.goto(f"{base}/signin")
    assert kb.has_focus(kb.page.get_by_label("API token")), "the token field does not have the focus"
    kb.type(token)
    with kb.page.expect_navigation():
        kb.press("Enter")


def skip_to_main(kb: Keyboard) -> None:
    """On a page just opened, the first Tab stop is the skip link; Enter moves the focus to the
    page's content."""
    skip = kb.page.get_by_role("link", name="Skip to main content")
    kb.tab()
    assert kb.has_focus(skip), f"the first Tab stop is {kb.focused()}, not the skip link"
    kb.press("Enter")
    assert kb.has_focus(kb.page.locator("main")), "the skip link did not move the focus to <main>"


def open_from_navigation(kb: Keyboard, name: str) -> None:
    """Follow a link of the main navigation, tabbing backwards from wherever the focus is (the
    navigation comes before the content)."""
    nav = kb.page.get_by_role("navigation", name="Main")
    kb.follow(nav.get_by_role("link", name=name), backwards=True)


def expect_outcome(kb: Keyboard, text: str) -> None:
    """After an action the page that answers has its outcome message focused, and Tab goes on
    from there into the page."""
    outcome = kb.page.locator("[data-outcome]")
    assert kb.has_focus(outcome), f"the focus is on {kb.focused()}, not on the outcome message"
    assert text in outcome.inner_text(), f"the outcome says {outcome.inner_text()!r}"
    kb.tab()
    inside = kb.page.evaluate("() => !!document.activeElement.closest('main')")
    assert inside, f"Tab after the outcome went to {kb.focused()}, outside the page's content"


def repush(kb: Keyboard, delivery_id: int, reason: str) -> None:
    """Re-push one failed delivery from the failed list, as an operator."""
    open_from_navigation(kb, "Failed")
    skip_to_main(kb)
    row = kb.page.locator(f"#row-{delivery_id}")
    kb.fill(row.get_by_label(f"Reason for re-pushing delivery {delivery_id}"), reason)
    kb.tab_to(row.get_by_role("button", name=f"Re-push delivery {delivery_id}"))
    with kb.page.expect_navigation():
        kb.press("Enter")
    expect_outcome(kb, f"delivery {delivery_id} queued again")


def open_tender(kb: Keyboard, reference: str) -> None:
    """From wherever the focus is: Tenders in the navigation, then the tender's link."""
    open_from_navigation(kb, "Tenders")
    skip_to_main(kb)
    kb.follow(kb.page.get_by_role("link", name=reference, exact=True))


def amend(kb: Keyboard, reference: str, record: dict[str, Any], reason: str) -> None:
    """Open the tender, follow Amend, give the reason, replace the record in its text area
    (select all, type the new one) and store the new version."""
    open_tender(kb, reference)
    kb.follow(kb.page.get_by_role("link", name="Amend", exact=False))
    kb.fill(kb.page.get_by_label("Reason (goes on the notices and in the audit log)"), reason)
    kb.tab_to(kb.page.get_by_label("The tender record", exact=False))
    kb.press("Control+A")
    kb.type(json.dumps(record, indent=1))
    kb.tab_to(kb.page.get_by_role("button", name="Store version", exact=False))
    with kb.page.expect_navigation():
        kb.press("Enter")
    expect_outcome(kb, "is now version")


def withdraw(kb: Keyboard, reference: str, reason: str) -> None:
    """Open the tender, open "Withdraw this tender", give the reason, then confirm on the page
    that says what each destination will get."""
    open_tender(kb, reference)
    kb.tab_to(kb.page.get_by_text("Withdraw this tender", exact=True))
    kb.press("Enter")  # opens the disclosure
    kb.fill(kb.page.get_by_label("Reason (goes on the cancellation notices)"), reason)
    kb.tab_to(kb.page.get_by_role("button", name="Withdraw…"))
    with kb.page.expect_navigation():
        kb.press("Enter")
    assert "Withdraw" in kb.page.locator("h1").inner_text(), "no confirmation page"
    kb.tab_to(kb.page.get_by_role("button", name="Withdraw the tender"))
    with kb.page.expect_navigation():
        kb.press("Enter")
    expect_outcome(kb, "withdrawn")

"""Tasks done start to finish with the keyboard alone, one function each, built from the steps
of tests/browser/keyboard.py. The tender lifecycle adds its own here the same way:

    def amend(kb: Keyboard, reference: str, changes: dict[str, str], reason: str) -> None
    def withdraw(kb: Keyboard, reference: str, reason: str) -> None

each opening the tender from the navigation, tabbing to the form, typing, confirming on the
confirmation page, and ending with `expect_outcome`. tests/browser/test_keyboard.py runs them.
"""

from __future__ import annotations

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

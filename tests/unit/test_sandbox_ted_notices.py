"""The TED simulator tells what a notice does from the document alone, as a reader of TED
would: checked on the eForms SDK's own example notices, which our adapter did not write."""

from __future__ import annotations

import pytest

from syndicator.channel.xmlsafe import parse
from syndicator.sandbox.ted import check, notice_kind
from tests.conftest import shared_standards


@pytest.mark.parametrize(
    ("example", "kind"),
    [
        ("cn_24_open.xml", "contract"),
        ("change-cn_24_open_dates.xml", "change"),
        ("change-cn_24_void.xml", "cancellation"),
        ("can_24_no_tenders.xml", "cancellation"),
        ("can_24_minimal.xml", "award"),
    ],
)
def test_the_kind_of_an_official_example_is_read_from_it(example: str, kind: str) -> None:
    path = shared_standards() / "eforms" / "1.15.1" / "examples" / example
    root = parse(path.read_bytes())
    assert notice_kind(root) == kind
    assert check(root) == []  # both roots are validated against their own XSD


def test_another_root_is_refused() -> None:
    namespace = "urn:oasis:names:specification:ubl:schema:xsd:PriorInformationNotice-2"
    root = parse(f"<PriorInformationNotice xmlns='{namespace}'/>".encode())
    assert check(root) == [f"XSD: {{{namespace}}}PriorInformationNotice is not a notice this service accepts"]

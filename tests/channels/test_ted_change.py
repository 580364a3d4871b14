"""TED change notices: a complete subtype-16 notice of the new version with a new notice id,
the procedure id of the notice it changes, and efac:Changes naming that notice's businessId
(BT-758), the reason code (BT-140: cor-buy for a correction, update-add otherwise), the reason
(BT-762) and one efac:Change per changed section (BT-141, BT-13716)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from channels.ted.change import PROCEDURE, section, sections
from channels.ted.identifiers import notice_id, procedure_id
from syndicator.channel.base import RenderError
from syndicator.config.settings import Config
from syndicator.domain.notices import FieldChange, NoticeKind
from syndicator.domain.tender import Tender
from tests.channels.enotices import ted_channel, tricky, valid, variant, xpath
from tests.channels.eras import ROUTED_TO_TED, ojeu_examples
from tests.channels.ted_scenarios import REASONS, change_job, earlier, matches_golden
from tests.conftest import contract as contract_of
from tests.conftest import render_context, render_job, routed_examples


@pytest.fixture(scope="module")
def examples(config: Config) -> dict[str, Tender]:
    """The shipped examples as procurements commenced under the EU directives: TED carries no
    others (tests/channels/eras.py)."""
    return ojeu_examples(config)


CHANGES = "/*/ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent/efext:EformsExtension/efac:Changes"


def test_every_routed_example_has_a_golden_change_notice(config: Config, examples: dict[str, Tender]) -> None:
    routed = routed_examples(config, examples, "ted")
    assert {name for name, _, _ in routed} == ROUTED_TO_TED
    for name, tender, _ in routed:
        job = change_job(config, name, tender)
        rendered = ted_channel().render(job.notice, job.context)
        assert valid(rendered.body) == [], name
        matches_golden(f"{name}-change", rendered)


def test_a_change_is_a_new_notice_of_the_same_procedure(config: Config, examples: dict[str, Tender]) -> None:
    tender = examples["anpr-cameras"]
    job = change_job(config, "anpr-cameras", tender)
    rendered = ted_channel().render(job.notice, job.context)
    contract = job.context.previous
    assert contract is not None and contract.kind is NoticeKind.CONTRACT and contract.identity
    assert rendered.identity == notice_id(job.context.key) != contract.identity  # BT-701
    assert xpath(rendered.body, "/*/cbc:ID/text()") == [rendered.identity]
    advert = ted_channel().render(
        contract_of(earlier(tender)), render_context(config, earlier(tender), "ted")
    )
    assert xpath(advert.body, "/*/cbc:ID/text()") == [contract.identity]  # the notice it changes
    procedure = [procedure_id(tender.buyer, tender.reference)]
    assert xpath(rendered.body, "/*/cbc:ContractFolderID/text()") == procedure  # BT-04
    assert xpath(advert.body, "/*/cbc:ContractFolderID/text()") == procedure
    assert xpath(rendered.body, "/*/cbc:VersionID/text()") == ["01"]
    assert xpath(rendered.body, "/*/cbc:NoticeTypeCode/text()") == ["cn-standard"]
    assert xpath(rendered.body, "//efac:NoticeSubType/cbc:SubTypeCode/text()") == ["16"]
    # the content is the new version's: the later deadline, not the earlier one
    deadline = "//cac:TenderSubmissionDeadlinePeriod/cbc:EndDate/text()"
    assert xpath(rendered.body, deadline) == ["2027-01-15Z"]
    resent = ted_channel().render(job.notice, replace(job.context, revision=2))
    assert xpath(resent.body, "/*/cbc:VersionID/text()") == ["02"]
    assert resent.identity == rendered.identity


def test_bt_758_names_the_businessid_of_the_notice_ted_publishes_now(
    config: Config, examples: dict[str, Tender]
) -> None:
    job = change_job(config, "anpr-cameras", examples["anpr-cameras"])
    contract = job.context.previous
    assert contract is not None and contract.remote_id == f"{contract.identity}-01"
    body = ted_channel().render(job.notice, job.context).body
    assert xpath(body, f"{CHANGES}/efbc:ChangedNoticeIdentifier/text()") == [contract.remote_id]
    # after a change of its own, the next change names that change notice, not the original
    published_change = replace(
        contract, kind=NoticeKind.CHANGE, version=2, key="k2", remote_id=f"{notice_id('k2')}-03"
    )
    later = replace(job.context, history=(contract, published_change))
    body = ted_channel().render(job.notice, later).body
    assert xpath(body, f"{CHANGES}/efbc:ChangedNoticeIdentifier/text()") == [published_change.remote_id]


@pytest.mark.parametrize(("correction", "code"), [(True, "cor-buy"), (False, "update-add")])
def test_the_reason_code_says_correction_or_change(
    config: Config, examples: dict[str, Tender], correction: bool, code: str
) -> None:
    tender = examples["anpr-cameras"]
    job = render_job(
        config,
        tender,
        "ted",
        kind=NoticeKind.CHANGE,
        previous=earlier(tender),
        reason="Why",
        correction=correction,
    )
    body = ted_channel().render(job.notice, job.context).body
    reason = f"{CHANGES}/efac:ChangeReason"
    assert xpath(body, f"{reason}/cbc:ReasonCode/text()") == [code]
    assert xpath(body, f"{reason}/cbc:ReasonCode/@listName") == ["change-corrig-justification"]
    assert xpath(body, f"{reason}/efbc:ReasonDescription/text()") == ["Why"]
    assert xpath(body, f"{reason}/efbc:ReasonDescription/@languageID") == ["ENG"]


def test_without_a_reason_only_the_code_is_given(config: Config, examples: dict[str, Tender]) -> None:
    tender = examples["anpr-cameras"]
    job = render_job(config, tender, "ted", kind=NoticeKind.CHANGE, previous=earlier(tender))
    body = ted_channel().render(job.notice, job.context).body
    assert xpath(body, f"{CHANGES}/efac:ChangeReason/*/text()") == ["update-add"]
    assert valid(body) == []


def test_each_changed_section_is_described(config: Config, examples: dict[str, Tender]) -> None:
    name = "it-managed-service"
    job = change_job(config, name, examples[name])
    body = ted_channel().render(job.notice, job.context).body
    assert xpath(body, f"{CHANGES}/efac:Change/efac:ChangedSection/efbc:ChangedSectionIdentifier/text()") == [
        PROCEDURE,
        "LOT-0002",
    ]
    descriptions = xpath(body, f"{CHANGES}/efac:Change/efbc:ChangeDescription/text()")
    assert descriptions == [
        "Submission deadline: 2027-01-06T12:00:00Z -> 2027-01-20T12:00:00Z",
        "Lot 2 title: Evidence software and storage -> Evidence management software, storage and support",
    ]
    assert xpath(body, f"{CHANGES}/efac:ChangeReason/cbc:ReasonCode/text()") == ["cor-buy"]
    assert xpath(body, f"{CHANGES}/efac:ChangeReason/efbc:ReasonDescription/text()") == [REASONS[name][0]]


def test_sections_follow_what_the_changed_notice_holds() -> None:
    lot_title = FieldChange("lots[number=3].title", "Lot 3 title", "a", "b")
    added = FieldChange("lots[number=4]", "Lot 4", None, "New lot")
    removed = FieldChange("lots[number=12]", "Lot 12", "Old lot", None)
    deadline = FieldChange("submission_deadline", "Submission deadline", "x", "y")
    assert [section(c) for c in (lot_title, added, removed, deadline)] == [
        "LOT-0003",
        PROCEDURE,  # the new lot is not in the changed notice: the procedure changed
        "LOT-0012",
        PROCEDURE,
    ]
    assert sections([lot_title, deadline, added, removed]) == [
        (PROCEDURE, "Submission deadline: x -> y; Lot 4: added (New lot)"),
        ("LOT-0003", "Lot 3 title: a -> b"),
        ("LOT-0012", "Lot 12: removed (was Old lot)"),
    ]


@pytest.mark.parametrize("state", ["submitted", "failed", "sending"])
def test_a_change_refers_only_to_a_published_notice(
    config: Config, examples: dict[str, Tender], state: str
) -> None:
    job = change_job(config, "anpr-cameras", examples["anpr-cameras"])
    previous = job.context.previous
    assert previous is not None
    unpublished = replace(job.context, history=(replace(previous, state=state),))
    with pytest.raises(RenderError, match=f"changes a published notice.*is {state}"):
        ted_channel().render(job.notice, unpublished)
    with pytest.raises(RenderError, match="TED carries none"):
        ted_channel().render(job.notice, replace(job.context, history=()))
    with pytest.raises(RenderError, match="has no businessId"):
        ted_channel().render(
            job.notice, replace(job.context, history=(replace(previous, remote_id="SEM-1"),))
        )


def test_hostile_text_in_the_tender_and_the_reason_stays_inert(
    config: Config, examples: dict[str, Tender]
) -> None:
    tender = tricky(examples["anpr-cameras"])
    reason = "Fixed <script>alert(1)</script> & ]]> \x07bell\x1b[31m — café"
    job = render_job(config, tender, "ted", kind=NoticeKind.CHANGE, previous=earlier(tender), reason=reason)
    body = ted_channel().render(job.notice, job.context).body
    assert valid(body) == []
    assert b"<script>" not in body and b"<b>" not in body and b"<![CDATA[" not in body
    assert b"\x07" not in body and b"\x1b" not in body
    stated = xpath(body, f"{CHANGES}/efac:ChangeReason/efbc:ReasonDescription/text()")
    assert stated == ["Fixed <script>alert(1)</script> & ]]>  bell [31m — café"]  # controls -> spaces
    assert xpath(body, "/*/cac:ProcurementProject/cbc:Name/text()") == [tender.title]


def test_a_reason_longer_than_ted_accepts_is_refused(config: Config, examples: dict[str, Tender]) -> None:
    tender = examples["anpr-cameras"]
    job = render_job(
        config, tender, "ted", kind=NoticeKind.CHANGE, previous=earlier(tender), reason="x" * 6001
    )
    with pytest.raises(RenderError, match=r"reason is 6001 characters.*BT-762"):
        ted_channel().render(job.notice, job.context)


def test_a_changed_tender_ted_cannot_carry_is_refused(config: Config, examples: dict[str, Tender]) -> None:
    tender = variant(examples["anpr-cameras"], documents_url=None)
    job = render_job(config, tender, "ted", kind=NoticeKind.CHANGE, previous=examples["anpr-cameras"])
    with pytest.raises(RenderError, match="BT-15"):
        ted_channel().render(job.notice, job.context)

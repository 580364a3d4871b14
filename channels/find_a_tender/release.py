"""The OCDS release of one Find a Tender notice, in the shape Find a Tender publishes: the UK
profile (OCDS 1.1.5 with the Cabinet Office's UK extension, its dependencies and lots;
`channels/schemas/ocds-uk/`). Pure: the same notice and context give the same release.

    our notice     Find a Tender notice                release tag          tender.status
    contract       UK4 tender notice                   tender               active
    change         the UK4 revised (a new version)     tenderUpdate         active
    cancellation   UK12 procurement termination        tenderCancellation   cancelled
    award          UK6 contract award notice           award                complete*
    contract-      UK7 contract details notice         contract             complete*
      details
    (* `unsuccessful` when no lot is awarded; awards and contracts: `award.py`)

The tags, `amount` (net) beside `amountGross`, GB-PPON buyers classified UK_CA_TYPE and
`tender.legalBasis` follow Find a Tender's published OCDS (UK-NOTICES.md section 9). A change
or a cancellation names the notice it follows in `previousNotice`, as the public UK1 upload
schema does for edits and withdrawals; the notice id in it comes from `context.previous`.

    release
     +-- ocid, id, date, tag, initiationType, language     id = our identity (from the key)
     +-- previousNotice {id, releaseID}                     change and cancellation only
     +-- parties[buyer], buyer                              PPON, older ids, UK_CA_TYPE
     +-- tender                                             legalBasis, aboveThreshold, value,
                                                            items (CPV), lots, tenderPeriod,
                                                            submissionMethod, documents
                                                            (noticeType UK4 / UK12), amendments
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from channels.find_a_tender import award
from channels.find_a_tender.parts import country_name, value
from channels.ocds.items import lot_id
from channels.ocds.release import mint_ocid as ocid
from channels.ocds.serialize import instant
from channels.ocds.tender import CATEGORY, METHOD, METHOD_DETAILS
from syndicator.channel.base import RenderContext, RenderError
from syndicator.config.buyers import Organisation
from syndicator.domain.notices import Notice, NoticeKind
from syndicator.domain.tender import Tender

# Release tags of Find a Tender's OCDS output per notice (UK-NOTICES.md section 9).
TAGS = {
    NoticeKind.CONTRACT: "tender",
    NoticeKind.CHANGE: "tenderUpdate",
    NoticeKind.CANCELLATION: "tenderCancellation",
    NoticeKind.AWARD: "award",
    NoticeKind.CONTRACT_DETAILS: "contract",
}
NOTICE_TYPES = {
    NoticeKind.CONTRACT: "UK4",
    NoticeKind.CHANGE: "UK4",
    NoticeKind.CANCELLATION: "UK12",
    NoticeKind.AWARD: "UK6",
    NoticeKind.CONTRACT_DETAILS: "UK7",
}
# The notices about the award: their own documents sit on the awards and contracts.
AWARD_KINDS = frozenset({NoticeKind.AWARD, NoticeKind.CONTRACT_DETAILS})
# documentType: OCDS `tenderNotice`; the UK extension adds `tenderCancellationNotice`.
DOCUMENT_TYPES = {
    NoticeKind.CONTRACT: "tenderNotice",
    NoticeKind.CHANGE: "tenderNotice",
    NoticeKind.CANCELLATION: "tenderCancellationNotice",
}
NOTICE_TITLES = {
    NoticeKind.CONTRACT: "Tender notice",
    NoticeKind.CHANGE: "Tender notice (revised)",
    NoticeKind.CANCELLATION: "Procurement termination notice",
}
# The Act or regulations the procurement runs under, as Find a Tender writes them:
# legislation.gov.uk's type and number. PA2023 is observed output; the PCR 2015 form is the
# same convention applied to SI 2015/102 [unconfirmed: no PCR release with legalBasis read].
LEGAL_BASIS = {
    "pa2023": {"scheme": "UKPGA", "id": "2023/54"},  # Procurement Act 2023 c. 54
    "pcr-uk": {"scheme": "UKSI", "id": "2015/102"},  # Public Contracts Regulations 2015
}
# Police bodies are sub-central contracting authorities (their FTS data carry this class;
# UK-NOTICES.md section 9); the codes are the UK extension's UK_CA_TYPE scheme.
AUTHORITY_TYPE = {
    "scheme": "UK_CA_TYPE",
    "id": "publicAuthoritySubCentralGovernment",
    "description": "Public authority - sub-central government",
}


def release_id(context: RenderContext) -> str:
    """Our identity of the notice: the delivery key, plus `-r<n>` for a corrected re-send after
    a refusal (a new notice to Find a Tender, so a new identity)."""
    return context.key if context.revision <= 1 else f"{context.key}-r{context.revision}"


def legal_basis(regime: str | None) -> dict[str, str]:
    """`tender.legalBasis` for the procurement's regime."""
    found = LEGAL_BASIS.get(regime or "")
    if found is None:
        raise RenderError(
            f"find-a-tender carries procurements under the Procurement Act 2023 (pa2023) or the "
            f"Public Contracts Regulations 2015 (pcr-uk), not {regime or 'an unknown regime'}"
        )
    return dict(found)


def identifier(value: str) -> dict[str, str]:
    """'GB-PPON-PGLQ-4189-YYPY' -> {scheme 'GB-PPON', id 'PGLQ-4189-YYPY'} (org-id.guide schemes
    are a country code and a register name)."""
    country, register, local = [*value.split("-", 2), "", ""][:3]
    if not (country and register and local):
        raise RenderError(f"find-a-tender: {value!r} is not an organisation identifier such as GB-PPON-...")
    return {"scheme": f"{country}-{register}", "id": local}


def buyer_party(buyer: Organisation, tender: Tender) -> dict[str, Any]:
    """The buyer as Find a Tender names it: its PPON, older identifiers, UK_CA_TYPE."""
    if not buyer.ppon:
        raise RenderError(
            f"find-a-tender names buyers by their PPON: add `ppon` to {buyer.legal_name} "
            "in config/buyers.toml"
        )
    contact: dict[str, Any] = {"name": tender.contact.name, "email": tender.contact.email}
    if tender.contact.phone:
        contact["telephone"] = tender.contact.phone
    contact["url"] = buyer.website
    party: dict[str, Any] = {"id": buyer.ppon, "name": buyer.legal_name, "identifier": identifier(buyer.ppon)}
    if buyer.other_identifiers:
        party["additionalIdentifiers"] = [identifier(other) for other in buyer.other_identifiers]
    party.update(
        address={
            "streetAddress": buyer.address,
            "locality": buyer.town,
            "postalCode": buyer.postcode,
            "countryName": country_name(buyer.country),
        },
        contactPoint=contact,
        roles=["buyer"],
        details={"classifications": [dict(AUTHORITY_TYPE)]},
    )
    return party


def cpv(codes: list[str]) -> dict[str, Any]:
    """Main and additional CPV classifications (OCDS ids are the 8 digits, no check digit)."""
    found: dict[str, Any] = {"classification": {"scheme": "CPV", "id": codes[0].split("-")[0]}}
    if len(codes) > 1:
        found["additionalClassifications"] = [{"scheme": "CPV", "id": c.split("-")[0]} for c in codes[1:]]
    return found


def items_and_lots(
    tender: Tender, vat_rate: Decimal, status: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Item 1 classifies the whole procurement; one item per lot carries `relatedLot`."""
    place = tender.place_of_performance
    where: dict[str, Any] = {"locality": place.town}
    if place.postcode:
        where["postalCode"] = place.postcode
    where["countryName"] = country_name(place.country)
    items = [{"id": "1", "description": tender.title, **cpv(tender.cpv), "deliveryAddresses": [where]}]
    lots = []
    for position, lot in enumerate(tender.lots, start=2):
        items.append(
            {
                "id": str(position),
                "description": lot.title,
                **cpv(lot.cpv or tender.cpv),
                "deliveryAddresses": [where],
                "relatedLot": lot_id(lot),
            }
        )
        entry: dict[str, Any] = {"id": lot_id(lot), "title": lot.title}
        if lot.description:
            entry["description"] = lot.description
        entry["status"] = status
        if lot.estimated_value is not None:
            entry["value"] = value(lot.estimated_value, vat_rate)
        lots.append(entry)
    return items, lots


def deadline_in_force(notice: Notice) -> datetime | None:
    """The submission deadline of the notice being revised: the one Find a Tender holds, which
    a change that moves the deadline reports as its `before`."""
    for change in notice.changes:
        if change.path == "submission_deadline" and change.before:
            return datetime.fromisoformat(change.before)
    return notice.tender.submission_deadline


def check_revisable(notice: Notice, context: RenderContext) -> None:
    """A UK4 cannot be edited after its submission deadline (Find a Tender refuses it; PA2023
    s.31 modifications are made before the deadline; UK-NOTICES.md section 9)."""
    deadline = deadline_in_force(notice)
    if deadline is not None and context.dispatched_at >= deadline:
        raise RenderError(
            f"find-a-tender refuses to revise a UK4 after its submission deadline "
            f"({instant(deadline)}); publish a UK12 procurement termination notice instead"
        )


def previous_notice(notice: Notice, context: RenderContext) -> dict[str, Any]:
    """The notice a change or cancellation follows on Find a Tender (`previousNotice`)."""
    previous = context.previous
    if previous is None:
        raise RenderError(
            f"a {NOTICE_TYPES[notice.kind]} {notice.kind.value} refers to an earlier notice, and "
            "find-a-tender carries none of this procurement"
        )
    found: dict[str, Any] = {}
    if previous.publication_id:
        found["id"] = previous.publication_id  # the notice id, nnnnnn-yyyy
    if previous.identity:
        found["releaseID"] = previous.identity
    return found


def notice_document(notice: Notice, context: RenderContext) -> dict[str, Any]:
    """What this notice is (`noticeType`), with the change or the reason in words. Its id
    carries the tender version (`uk4-v2`): OCDS has no field of its own for it."""
    kind = notice.kind
    document: dict[str, Any] = {
        "id": f"{NOTICE_TYPES[kind].lower()}-v{notice.version}",
        "documentType": DOCUMENT_TYPES[kind],
        "noticeType": NOTICE_TYPES[kind],
        "title": NOTICE_TITLES[kind],
    }
    previous = context.previous
    earlier = previous.public_reference if previous is not None else None
    if kind is NoticeKind.CHANGE:
        what = "Correction" if notice.correction else "Modification"
        lines = [f"{what} of notice {earlier or '(not yet numbered)'}: {notice.reason or 'no reason given'}"]
        lines += [change.sentence() for change in notice.changes]
        document["description"] = "\n".join(lines)
    elif kind is NoticeKind.CANCELLATION:
        document["description"] = (
            f"The procurement in notice {earlier or '(not yet numbered)'} is terminated: "
            f"{notice.reason or 'no reason given'}"
        )
    document["language"] = "en"
    return document


def documents(notice: Notice, context: RenderContext) -> list[dict[str, Any]]:
    """The notice itself (a UK6's and UK7's are on its awards and contracts instead), then the
    tender documents."""
    found = [] if notice.kind in AWARD_KINDS else [notice_document(notice, context)]
    if notice.tender.documents_url:
        found.append(
            {
                "id": "tender-documents",
                "documentType": "biddingDocuments",
                "title": "Tender documents",
                "url": notice.tender.documents_url,
                "language": "en",
            }
        )
    return found


def tender_section(notice: Notice, context: RenderContext, when: str) -> dict[str, Any]:
    """`tender`: the procurement as the notice states it, with the notice's own documents and,
    for a change, the amendment."""
    kind, tender = notice.kind, notice.tender
    status = tender_status(notice)
    items, lots = items_and_lots(tender, context.vat_rate, status)
    section: dict[str, Any] = {
        "id": tender.reference,
        "legalBasis": legal_basis(context.regime),
        "title": tender.title,
        "description": tender.description,
        "status": status,
        "aboveThreshold": context.above_threshold,
        "value": value(tender.estimated_value, context.vat_rate),
        "procurementMethod": METHOD[tender.procedure],
        "procurementMethodDetails": METHOD_DETAILS[tender.procedure],
        "mainProcurementCategory": CATEGORY[tender.contract_type],
        "items": items,
    }
    if lots:
        section["lots"] = lots
    section["submissionMethod"] = ["electronicSubmission"]
    if tender.documents_url:
        where = tender.documents_url
        section["submissionMethodDetails"] = f"Tenders are submitted electronically through {where}"
    if tender.submission_deadline is not None:
        section["tenderPeriod"] = {"endDate": instant(tender.submission_deadline)}
    if tender.duration_months is not None:
        section["contractPeriod"] = {"durationInMonths": tender.duration_months}  # UK extension
    section["suitability"] = {"sme": tender.sme_suitable}
    section["documents"] = documents(notice, context)
    if kind is NoticeKind.CHANGE:
        amendment: dict[str, Any] = {"id": f"v{notice.version}", "date": when}
        if notice.reason:
            amendment["rationale"] = notice.reason
        if notice.changes:
            amendment["description"] = "\n".join(change.sentence() for change in notice.changes)
        if context.previous is not None and context.previous.identity:
            amendment["amendsReleaseID"] = context.previous.identity
        amendment["releaseID"] = release_id(context)
        section["amendments"] = [amendment]
    if kind is NoticeKind.CANCELLATION:
        section["finalStatusDate"] = instant(notice.withdrawn_at or context.dispatched_at)  # UK extension
    return section


def build_release(notice: Notice, context: RenderContext, ocid_prefix: str) -> dict[str, Any]:
    """The release for a UK4, a revised UK4, a UK12, a UK6 or a UK7."""
    kind, tender = notice.kind, notice.tender
    if kind not in TAGS:
        raise RenderError(f"find-a-tender does not carry {kind.value} notices")
    if kind is NoticeKind.CHANGE:
        check_revisable(notice, context)
    if tender.submission_deadline is None and kind in (NoticeKind.CONTRACT, NoticeKind.CHANGE):
        raise RenderError("a UK4 tender notice states the deadline for tenders; this tender has none")
    if context.above_threshold is None:
        raise RenderError("find-a-tender states whether the procurement is above threshold; it is not known")
    when = instant(context.dispatched_at)
    section = tender_section(notice, context, when)
    release: dict[str, Any] = {
        "ocid": ocid(ocid_prefix, tender.buyer, tender.reference),
        "id": release_id(context),
        "date": when,
        "tag": [TAGS[kind]],
        "initiationType": "tender",
        "language": "en",
    }
    if kind is not NoticeKind.CONTRACT:
        release["previousNotice"] = previous_notice(notice, context)
    party = buyer_party(context.buyer, tender)
    parties = [party, *award.parties_for(notice)] if kind in AWARD_KINDS else [party]
    release.update(parties=parties, buyer={"id": party["id"], "name": party["name"]}, tender=section)
    if kind is NoticeKind.AWARD:
        release.update(award.award_sections(notice, context))
    elif kind is NoticeKind.CONTRACT_DETAILS:
        release.update(award.contract_sections(notice, context))
    return release


def tender_status(notice: Notice) -> str:
    """`tender.status`: cancelled by a UK12; after an award complete, or unsuccessful when no lot
    was awarded; otherwise active."""
    if notice.kind is NoticeKind.CANCELLATION:
        return "cancelled"
    if notice.kind in AWARD_KINDS and notice.award is not None:
        awarded = any(lot.outcome.value == "awarded" for lot in notice.award.lots)
        return "complete" if awarded else "unsuccessful"
    return "active"

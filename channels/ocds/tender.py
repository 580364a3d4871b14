"""The tender section of a release (release-schema.json definition Tender) from a tender
record: the same for every notice about one version, so a change or cancellation release
carries the version's full tender section, not a difference.

Mappings to OCDS 1.1 closed codelists (method.csv, procurementCategory.csv):

    open ........................................ open
    restricted, competitive dialogue,
    competitive procedure with negotiation ...... selective (candidates are selected to bid)
    framework call-off .......................... selective (a mini-competition among the
                                                  framework's suppliers)
    supplies / services / works ................. goods / services / works
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from channels.ocds.codelists import Method, ProcurementCategory, SubmissionMethod, TenderStatus
from channels.ocds.items import items, lots
from channels.ocds.parties import reference
from channels.ocds.values import months_as_days, period, value
from syndicator.config.buyers import Organisation
from syndicator.domain.tender import ContractType, Procedure, Tender

METHOD = {
    Procedure.OPEN: Method.OPEN,
    Procedure.RESTRICTED: Method.SELECTIVE,
    Procedure.COMPETITIVE_DIALOGUE: Method.SELECTIVE,
    Procedure.COMPETITIVE_NEGOTIATED: Method.SELECTIVE,
    Procedure.FRAMEWORK_CALL_OFF: Method.SELECTIVE,
    Procedure.COMPETITIVE_FLEXIBLE: Method.SELECTIVE,
}
METHOD_DETAILS = {
    Procedure.OPEN: "Open procedure",
    Procedure.RESTRICTED: "Restricted procedure",
    Procedure.COMPETITIVE_DIALOGUE: "Competitive dialogue",
    Procedure.COMPETITIVE_NEGOTIATED: "Competitive procedure with negotiation",
    Procedure.FRAMEWORK_CALL_OFF: "Call-off by mini-competition under a framework agreement",
    Procedure.COMPETITIVE_FLEXIBLE: "Competitive flexible procedure",
}
CATEGORY = {
    ContractType.SUPPLIES: ProcurementCategory.GOODS,
    ContractType.SERVICES: ProcurementCategory.SERVICES,
    ContractType.WORKS: ProcurementCategory.WORKS,
}


def section(
    tender: Tender,
    *,
    buyer: Organisation,
    vat_rate: Decimal,
    opened: datetime,
    status: TenderStatus = TenderStatus.ACTIVE,
    documents: Sequence[dict[str, Any]] = (),
    gross: bool = False,
) -> dict[str, Any]:
    """The tender section: `opened` is when the tender period began (the first notice's
    dispatch), `status` the tender's (and its lots'), `gross` adds `amountGross` to values."""
    found: dict[str, Any] = {
        "id": tender.reference,
        "title": tender.title,
        "description": tender.description,
        "status": str(status),
        "procuringEntity": reference(buyer),
        "items": items(tender),
        "value": value(tender.estimated_value, vat_rate, gross=gross),
        "procurementMethod": str(METHOD[tender.procedure]),
        "procurementMethodDetails": METHOD_DETAILS[tender.procedure],
        "mainProcurementCategory": str(CATEGORY[tender.contract_type]),
        "submissionMethod": [str(SubmissionMethod.ELECTRONIC_SUBMISSION)],
        "tenderPeriod": period(opened, tender.submission_deadline),
    }
    if tender.duration_months is not None:
        found["contractPeriod"] = period(days=months_as_days(tender.duration_months))
    if documents:
        found["documents"] = list(documents)
    if tender.lots:
        found["lots"] = lots(tender, vat_rate, status=status, gross=gross)
    return found

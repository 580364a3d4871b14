"""The OCDS 1.1.5 codelists the releases we build draw from (schema/codelists in the standard,
tag 1__1__5). Closed codelists are complete (the schema refuses anything else, and
tests/channels/test_ocds.py checks each against the vendored schema and the reference CSVs);
for open codelists only the codes we use are listed, each from the standard's CSV.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class ReleaseTag(StrEnum):
    """releaseTag.csv (closed): what a release is about."""

    PLANNING = "planning"
    PLANNING_UPDATE = "planningUpdate"
    TENDER = "tender"  # a new tender notice
    TENDER_AMENDMENT = "tenderAmendment"  # the tender changed after it was published
    TENDER_UPDATE = "tenderUpdate"  # corrected or added detail, the tender itself unchanged
    TENDER_CANCELLATION = "tenderCancellation"  # the tender is cancelled
    AWARD = "award"
    AWARD_UPDATE = "awardUpdate"
    AWARD_CANCELLATION = "awardCancellation"
    CONTRACT = "contract"
    CONTRACT_UPDATE = "contractUpdate"
    CONTRACT_AMENDMENT = "contractAmendment"
    IMPLEMENTATION = "implementation"
    IMPLEMENTATION_UPDATE = "implementationUpdate"
    CONTRACT_TERMINATION = "contractTermination"
    COMPILED = "compiled"  # records only, never a release we send


class TenderStatus(StrEnum):
    """tenderStatus.csv (closed)."""

    PLANNING = "planning"
    PLANNED = "planned"
    ACTIVE = "active"
    CANCELLED = "cancelled"
    UNSUCCESSFUL = "unsuccessful"
    COMPLETE = "complete"
    WITHDRAWN = "withdrawn"


class Method(StrEnum):
    """method.csv (closed): tender.procurementMethod."""

    OPEN = "open"
    SELECTIVE = "selective"
    LIMITED = "limited"
    DIRECT = "direct"


class ProcurementCategory(StrEnum):
    """procurementCategory.csv (closed): tender.mainProcurementCategory."""

    GOODS = "goods"
    WORKS = "works"
    SERVICES = "services"


class InitiationType(StrEnum):
    """initiationType.csv (closed)."""

    TENDER = "tender"


class AwardStatus(StrEnum):
    """awardStatus.csv (closed), for award releases."""

    PENDING = "pending"
    ACTIVE = "active"
    CANCELLED = "cancelled"
    UNSUCCESSFUL = "unsuccessful"


class ContractStatus(StrEnum):
    """contractStatus.csv (closed), for contract releases."""

    PENDING = "pending"
    ACTIVE = "active"
    CANCELLED = "cancelled"
    TERMINATED = "terminated"


class DocumentType(StrEnum):
    """documentType.csv (open): the codes we use."""

    TENDER_NOTICE = "tenderNotice"
    AWARD_NOTICE = "awardNotice"
    CONTRACT_NOTICE = "contractNotice"
    BIDDING_DOCUMENTS = "biddingDocuments"
    CANCELLATION_DETAILS = "cancellationDetails"


class SubmissionMethod(StrEnum):
    """submissionMethod.csv (open): the codes we use."""

    ELECTRONIC_SUBMISSION = "electronicSubmission"


class PartyRole(StrEnum):
    """partyRole.csv (open): the codes we use."""

    BUYER = "buyer"
    PROCURING_ENTITY = "procuringEntity"
    SUPPLIER = "supplier"
    TENDERER = "tenderer"
    REVIEW_BODY = "reviewBody"


class ItemClassificationScheme(StrEnum):
    """itemClassificationScheme.csv (open): the codes we use."""

    CPV = "CPV"


# Each closed codelist: its CSV in the standard, and the release-schema.json field it is the
# enum of ("Tender.status" is definitions/Tender/properties/status; "tag" a top-level field).
CLOSED: Mapping[type[StrEnum], tuple[str, str]] = {
    ReleaseTag: ("releaseTag.csv", "tag"),
    TenderStatus: ("tenderStatus.csv", "Tender.status"),
    Method: ("method.csv", "Tender.procurementMethod"),
    ProcurementCategory: ("procurementCategory.csv", "Tender.mainProcurementCategory"),
    InitiationType: ("initiationType.csv", "initiationType"),
    AwardStatus: ("awardStatus.csv", "Award.status"),
    ContractStatus: ("contractStatus.csv", "Contract.status"),
}
# Open codelists: each enum's CSV (its codes must all be in it).
OPEN: Mapping[type[StrEnum], str] = {
    DocumentType: "documentType.csv",
    SubmissionMethod: "submissionMethod.csv",
    PartyRole: "partyRole.csv",
    ItemClassificationScheme: "itemClassificationScheme.csv",
}

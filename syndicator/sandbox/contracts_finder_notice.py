"""What Contracts Finder's validation refuses in a Notice: the sandbox's reading of the model
(https://www.contractsfinder.service.gov.uk/apidocumentation/ResourceModel?modelName=NoticeImport
and the create_draft_notice page): required members and their limits, values as numbers, a
postcode or a UK region, 8-digit CPV codes. Members are matched case-insensitively, as ASP.NET
binds them; unknown members are refused, which the real service is believed not to do, so that a
misspelt member fails in the sandbox instead of vanishing in production.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

POSTCODE = re.compile(r"(GIR ?0AA|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2})")
CPV = re.compile(r"[0-9]{8}")
DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})"
)
NOTICE_TYPES = ("Contract", "Pipeline", "EarlyEngagement")
REGIONS = (
    "North East",
    "North West",
    "Yorkshire and the Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
    "Scotland",
    "Wales",
    "Northern Ireland",
)
# The members of the Notice model (create_draft_notice), lower-cased.
MEMBERS = {
    "id",
    "parentid",
    "parentidentifier",
    "linkreason",
    "version",
    "contactdetails",
    "identifier",
    "title",
    "description",
    "approachmarketdate",
    "deadlinedate",
    "valuelow",
    "valuehigh",
    "postcode",
    "region",
    "nationwide",
    "start",
    "end",
    "type",
    "cpvcodes",
    "issuitableforsme",
    "issuitableforvco",
}
CONTACT_MEMBERS = {"name", "email", "phone", "address1", "address2", "town", "postcode", "country", "website"}


def lower(document: Any) -> dict[str, Any]:
    """An object's members by lower-cased name (ASP.NET binds members case-insensitively)."""
    return {str(k).lower(): v for k, v in document.items()} if isinstance(document, dict) else {}


def _text(
    document: dict[str, Any], name: str, label: str, limit: int, problems: list[tuple[str, str]]
) -> None:
    value = document.get(name)
    if not isinstance(value, str) or not value.strip():
        problems.append((label, "is required"))
    elif len(value) > limit:
        problems.append((label, f"must be {limit} characters or fewer, not {len(value)}"))


def notice_problems(document: dict[str, Any]) -> list[tuple[str, str]]:
    """What Contracts Finder's validation would refuse in a Notice, as (member, message)."""
    problems: list[tuple[str, str]] = []
    for name in sorted(set(document) - MEMBERS):
        problems.append((name, "is not a member of the Notice model"))
    _text(document, "identifier", "Identifier", 100, problems)
    _text(document, "title", "Title", 300, problems)
    _text(document, "description", "Description", 3000, problems)
    kind = document.get("type")
    if kind not in NOTICE_TYPES:
        problems.append(("Type", f"must be one of {', '.join(NOTICE_TYPES)}"))
    deadline = document.get("deadlinedate")
    if deadline is not None and not (isinstance(deadline, str) and DATE_TIME.fullmatch(deadline)):
        problems.append(("DeadlineDate", "must be a date and time with a UTC offset"))
    if kind == "Contract" and deadline is None:
        problems.append(("DeadlineDate", "is required for an opportunity"))
    low, high = document.get("valuelow"), document.get("valuehigh")
    for label, value in (("ValueLow", low), ("ValueHigh", high)):
        if value is not None and (
            not isinstance(value, Decimal | int) or isinstance(value, bool) or value < 0
        ):
            problems.append((label, "must be a number of pounds, 0 or more"))
    if isinstance(low, Decimal | int) and isinstance(high, Decimal | int) and low > high:
        problems.append(("ValueHigh", "must not be less than ValueLow"))
    postcode, region = document.get("postcode"), document.get("region")
    if not postcode and not region:
        problems.append(("Postcode", "a postcode or a region is required"))
    if postcode is not None and not (isinstance(postcode, str) and POSTCODE.fullmatch(postcode.upper())):
        problems.append(("Postcode", f"{postcode!r} is not a UK postcode"))
    if region is not None and region not in REGIONS:
        problems.append(("Region", f"{region!r} is not a region"))
    codes = document.get("cpvcodes")
    if (
        not isinstance(codes, list)
        or not codes
        or not all(isinstance(c, str) and CPV.fullmatch(c) for c in codes)
    ):
        problems.append(("CpvCodes", "must list one or more 8-digit CPV codes"))
    for flag in ("issuitableforsme", "issuitableforvco", "nationwide"):
        if document.get(flag) is not None and not isinstance(document[flag], bool):
            problems.append((flag, "must be true or false"))
    contact = document.get("contactdetails")
    if contact is not None:
        details = lower(contact)
        for name in sorted(set(details) - CONTACT_MEMBERS):
            problems.append((f"ContactDetails.{name}", "is not a member of ContactDetails"))
        for name in ("name", "email"):
            if not isinstance(details.get(name), str) or not details[name]:
                problems.append((f"ContactDetails.{name}", "is required"))
    return problems


# The members of an award of a published notice (award_notice), lower-cased: the adapter's
# reading of the documentation [unconfirmed], held to as strictly as the Notice's.
AWARD_MEMBERS = {"noticeid", "awardeddate", "awardedvalue", "description", "awarddetails"}
DETAIL_MEMBERS = {
    "suppliername",
    "supplieridentifier",
    "supplieraddress",
    "issme",
    "value",
    "startdate",
    "enddate",
}


def _amount(value: Any) -> bool:
    return isinstance(value, Decimal | int) and not isinstance(value, bool) and value >= 0


def award_problems(document: dict[str, Any]) -> list[tuple[str, str]]:
    """What the award method would refuse, as (member, message)."""
    problems: list[tuple[str, str]] = []
    for name in sorted(set(document) - AWARD_MEMBERS):
        problems.append((name, "is not a member of the award"))
    awarded = document.get("awardeddate")
    if not (isinstance(awarded, str) and DATE_TIME.fullmatch(awarded)):
        problems.append(("AwardedDate", "must be a date and time with a UTC offset"))
    if not _amount(document.get("awardedvalue")):
        problems.append(("AwardedValue", "must be a number of pounds, 0 or more"))
    _text(document, "description", "Description", 3000, problems)
    details = document.get("awarddetails")
    if not isinstance(details, list) or not details:
        problems.append(("AwardDetails", "must name one or more awarded suppliers"))
        return problems
    for index, raw in enumerate(details):
        detail, where = lower(raw), f"AwardDetails[{index}]"
        for name in sorted(set(detail) - DETAIL_MEMBERS):
            problems.append((f"{where}.{name}", "is not a member of an award detail"))
        _text(detail, "suppliername", f"{where}.SupplierName", 300, problems)
        if not isinstance(detail.get("issme"), bool):
            problems.append((f"{where}.IsSme", "must be true or false"))
        if not _amount(detail.get("value")):
            problems.append((f"{where}.Value", "must be a number of pounds, 0 or more"))
        for name, label in (("startdate", "StartDate"), ("enddate", "EndDate")):
            moment = detail.get(name)
            if moment is not None and not (isinstance(moment, str) and DATE_TIME.fullmatch(moment)):
                problems.append((f"{where}.{label}", "must be a date and time with a UTC offset"))
    return problems

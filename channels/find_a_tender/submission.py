"""Reading the eSender API's NoticeInformation answer (submit and status check alike).

    {"submission_id": "20261201-000123", "status": "RECEIVED" | "PUBLISHED" | ...,
     "received_at", "status_updated_at", "reason_code", "no_doc_ext", "ref_submission_id",
     "publication_info": {"no_doc_ojs", "publication_date",
                          "truk_links": {"EN": ".../Notice/012345-2026"}, "ocids": [...]},
     "technical_validation_report", "validation_rules_report", "quality_control_report"}

Only RECEIVED is documented (UK-NOTICES.md section 1); the other statuses are our reading of
the TED-derived design, kept in the three sets below [unconfirmed: check with the FTS eSender
team before go-live]. A status in none of them is reported as an unknown outcome, never
guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

WAITING = frozenset({"RECEIVED", "PROCESSING", "VALIDATED", "QUALITY_CONTROL", "PENDING_PUBLICATION"})
PUBLISHED = "PUBLISHED"
REFUSED = frozenset(
    {"NOT_PUBLISHED", "REJECTED", "VALIDATION_FAILED", "QUALITY_CONTROL_FAILED", "STOPPED", "CANCELLED"}
)
REPORTS = ("technical_validation_report", "validation_rules_report", "quality_control_report")
NOTICE_ID = re.compile(r"/Notice/(\d{6}-\d{4})(?:[/?#]|$)")  # FTS notice numbers: nnnnnn-yyyy
MAX_REASONS = 20


@dataclass(frozen=True)
class Publication:
    """Where and as what a notice was published."""

    notice_id: str | None
    url: str | None
    ocid: str | None
    published_at: datetime | None

    def describe(self) -> str:
        """'notice 012345-2026, OCID ocds-h6vhtk-0a1b2c'."""
        parts = [f"notice {self.notice_id}" if self.notice_id else ""]
        parts.append(f"OCID {self.ocid}" if self.ocid else "")
        return ", ".join(part for part in parts if part)


def notice_id(url: str | None) -> str | None:
    """The notice number at the end of a Find a Tender notice URL."""
    found = NOTICE_ID.search(url or "")
    return found.group(1) if found else None


def moment(value: Any) -> datetime | None:
    """An FTS date or date-time as an aware UTC datetime (a bare one is taken as UTC)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def publication(info: dict[str, Any]) -> Publication:
    """The publication details of a NoticeInformation (empty before publication)."""
    details = info.get("publication_info")
    details = details if isinstance(details, dict) else {}
    links = details.get("truk_links")
    url = links.get("EN") if isinstance(links, dict) else None
    url = url if isinstance(url, str) and url else None
    ocids = details.get("ocids")
    ocid = next((o for o in ocids if isinstance(o, str)), None) if isinstance(ocids, list) else None
    return Publication(notice_id(url), url, ocid, moment(details.get("publication_date")))


def reasons(info: dict[str, Any]) -> list[str]:
    """Why a notice was refused: the reason code, then each report's errors."""
    found = [f"reason code {info['reason_code']}"] if info.get("reason_code") else []
    for name in REPORTS:
        report = info.get(name)
        errors = report.get("errors") if isinstance(report, dict) else report
        for error in errors if isinstance(errors, list) else []:
            if isinstance(error, dict):
                message = str(error.get("message") or error.get("description") or error)
                path = error.get("path") or error.get("location")
                found.append(f"{path}: {message}" if path else message)
            else:
                found.append(str(error))
    return found[:MAX_REASONS]

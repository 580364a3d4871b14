"""The upload body of the eSender submit call: the swap point between the notice we render and
what Find a Tender's reception accepts.

    POST /api/latest/notice/submission/submit
    Content-Type: application/x-www-form-urlencoded
    notice=<base64 of the notice document>

Find a Tender expects the notice document as XML in its reception schema (UK-NOTICES.md
section 1); the PA2023 upload XSDs (UK4, UK12, ...) are not public: the FTS eSender team hands
them out. Until we hold them, the notice document is the OCDS release itself, the UK-profile
JSON this channel renders. When the XSD arrives, `notice_document` is the one function to
replace (release dict in, XML bytes out, built with lxml); nothing else changes.
"""

from __future__ import annotations

import base64
from urllib.parse import urlencode

MEDIA_TYPE = "application/x-www-form-urlencoded"


def notice_document(release: bytes) -> bytes:
    """The notice as Find a Tender's reception reads it. Today: the OCDS release as rendered.

    Swap point: the official PA2023 upload schema replaces this with the XML form."""
    return release


def upload_body(release: bytes) -> bytes:
    """The form body of the submit call: `notice=` and the base64 of the notice document."""
    encoded = base64.b64encode(notice_document(release)).decode("ascii")
    return urlencode({"notice": encoded}).encode("ascii")

"""A scripted eNotices2 for the TED adapter's tests: the adapter built on a function session,
answers in eNotices2's shapes, and reading back what the adapter sent; plus reading rendered
notices (XPath, XSD errors) and tender variants."""

from __future__ import annotations

import json
from collections.abc import Callable
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import requests

from channels.ted.channel import TedChannel, TedSettings
from channels.ted.schemas import errors
from channels.ted.ubl import XPATH_NS
from syndicator.channel.http import Response, function_session
from syndicator.channel.xmlsafe import parse
from syndicator.domain.tender import Tender

API_KEY = "0f3c9a7be5d24c61a8f2b7c4d9e01a55"
BASE = "https://enotices2.test/esenders"
NOTICE_ID = "16962097-473a-475d-894b-f26f731d54d5"
BUSINESS_ID = f"{NOTICE_ID}-01"
Handler = Callable[[requests.PreparedRequest], Response]


def ted_channel(handler: Handler | None = None, **overrides: Any) -> TedChannel:
    """The adapter, talking to `handler` instead of the network."""
    values: dict[str, Any] = {
        "base_url": BASE,
        "api_key": API_KEY,
        "author_email": "emscu.tenders@example.police.uk",
        "connect_retries": 1,
        **overrides,
    }
    session = function_session(handler) if handler else None
    return TedChannel(TedSettings.model_validate(values), session=session)


def answer(status: int, document: Any, **headers: str) -> Response:
    """A JSON answer."""
    body = json.dumps(document).encode()
    return Response(status, {"Content-Type": "application/json", **headers}, body)


def notice(status: str, **extra: Any) -> dict[str, Any]:
    """An eNotices2 Notice document of BUSINESS_ID."""
    return {"id": NOTICE_ID, "versionId": "01", "status": status, **extra}


def found(*notices: dict[str, Any]) -> Response:
    """A search-esentool page listing `notices`."""
    return answer(200, {"totalSize": len(notices), "content": list(notices)})


class FakeEnotices:
    """Scripted eNotices2 answers, recording every request."""

    def __init__(self, *answers: Response) -> None:
        self.answers = list(answers)
        self.requests: list[requests.PreparedRequest] = []

    def __call__(self, request: requests.PreparedRequest) -> Response:
        self.requests.append(request)
        return self.answers.pop(0)


def parts(request: requests.PreparedRequest) -> dict[str, tuple[str, bytes]]:
    """The multipart/form-data parts of a request: name -> (content type, payload)."""
    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    assert isinstance(request.body, bytes)
    message = BytesParser(policy=HTTP).parsebytes(head + request.body)
    assert isinstance(message, EmailMessage)
    found_parts = {}
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        name = part.get_param("name", header="content-disposition")
        found_parts[str(name)] = (part.get_content_type(), payload)
    return found_parts


def xpath(body: bytes, path: str) -> list[Any]:
    """XPath on a rendered notice (prefixes of channels.ted.ubl.XPATH_NS)."""
    result = parse(body).xpath(path, namespaces=XPATH_NS)
    assert isinstance(result, list)
    return result


def valid(body: bytes) -> list[str]:
    """The XSD errors of a rendered notice, against the schema of its root."""
    return errors(body)


def variant(tender: Tender, **changes: Any) -> Tender:
    """A re-validated copy of the tender with some fields changed."""
    return Tender.model_validate({**tender.model_dump(mode="json"), **changes})


def tricky(tender: Tender) -> Tender:
    """The tender with markup, quotes, CDATA ends, pound signs and non-ASCII text."""
    return variant(
        tender,
        title='Body-worn <b>cameras</b> & "docks" ]]> £5k — Zürich 東京',
        description=(
            "Supply of <script>alert('x')</script> &amp; docks.\n\n"
            "Second paragraph: café, naïve, ]]> and £1,000 <i>each</i>."
        ),
    )

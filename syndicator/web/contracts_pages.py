"""The dashboard's Contracts page (the quarterly contracts list, filtered by buyer and quarter,
with each list to download) and the award forms on a tender's page (award, contract signed)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.status import HTTP_404_NOT_FOUND, HTTP_422_UNPROCESSABLE_CONTENT

from syndicator.intake.award import AwardProblems, award, contract_signed
from syndicator.intake.award_records import validate_award
from syndicator.intake.lifecycle import LifecycleError
from syndicator.intake.records import decode
from syndicator.ops.contracts import Quarter, awards_of, contracts_list, pcc_lists
from syndicator.ops.lists import contracts_csv, contracts_html, contracts_ocds, pcc_csv, pcc_html
from syndicator.store.models import TenderRow
from syndicator.web.auth import page_role, require_csrf
from syndicator.web.context import Web, web
from syndicator.web.rendering import flash, render
from syndicator.web.sessions import BrowserSession
from syndicator.web.tokens import Role

router = APIRouter(include_in_schema=False)

Viewer = Annotated[BrowserSession, Depends(page_role(Role.VIEWER))]
Operator = Annotated[BrowserSession, Depends(page_role(Role.OPERATOR))]
App = Annotated[Web, Depends(web)]
Text = Annotated[str, Form()]
MEDIA = {"csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8", "json": "application/json"}


def _quarter(text: str, today: date) -> Quarter:
    if not text:
        return Quarter(today.year, (today.month - 1) // 3 + 1)
    try:
        return Quarter.parse(text)
    except ValueError as exc:
        raise HTTPException(HTTP_422_UNPROCESSABLE_CONTENT, f"quarter: {exc}") from None


def _buyer(app: Web, buyer: str) -> str | None:
    if buyer and buyer not in app.config.buyers.ids:
        raise HTTPException(HTTP_422_UNPROCESSABLE_CONTENT, f"buyer {buyer!r} is not a known buyer")
    return buyer or None


@router.get("/contracts", response_class=HTMLResponse)
def contracts_page(request: Request, who: Viewer, app: App, quarter: str = "", buyer: str = "") -> Response:
    """Contracts of £25,000 and above current at the end of a quarter, with the lists to download."""
    chosen, only = _quarter(quarter, app.clock().date()), _buyer(app, buyer)
    with app.store.sessions() as session:
        rows = contracts_list(session, chosen, only)
    return render(
        request,
        app,
        who,
        "contracts.html",
        rows=rows,
        quarter=chosen,
        buyer=buyer,
        names=app.config.buyers.by_id,
    )


@router.get("/contracts/list.{output}")
def contracts_download(who: Viewer, app: App, output: str, quarter: str = "", buyer: str = "") -> Response:
    """The quarterly list as CSV, a printable HTML page, or OCDS JSON."""
    if output not in MEDIA:
        raise HTTPException(HTTP_404_NOT_FOUND, f"no list format {output!r}")
    now = app.clock()
    chosen, only = _quarter(quarter, now.date()), _buyer(app, buyer)
    with app.store.sessions() as session:
        rows = contracts_list(session, chosen, only)
        awards = awards_of(session, sorted({row.tender_id for row in rows}))
    body = {
        "csv": lambda: contracts_csv(rows),
        "html": lambda: contracts_html(rows, chosen, app.config.buyers, now),
        "json": lambda: contracts_ocds(rows, awards, chosen, app.config.buyers, now),
    }[output]()
    name = f"contracts-{chosen}{'-' + only if only else ''}.{output}"
    return Response(body, media_type=MEDIA[output], headers=document_headers(output, name))


@router.get("/contracts/pcc.{output}")
def pcc_download(who: Viewer, app: App, output: str, buyer: str = "") -> Response:
    """A commissioner's specified information (CSV or printable HTML)."""
    if output not in ("csv", "html"):
        raise HTTPException(HTTP_404_NOT_FOUND, f"no list format {output!r}")
    only = _buyer(app, buyer)
    if only is None:
        raise HTTPException(HTTP_422_UNPROCESSABLE_CONTENT, "buyer: say which force or commissioner")
    with app.store.sessions() as session:
        lists = pcc_lists(session, only, app.config.policy.vat_rate)
    body = pcc_csv(lists) if output == "csv" else pcc_html(lists, app.config.buyers, app.clock())
    name = f"pcc-publication-{only}.{output}"
    return Response(body, media_type=MEDIA[output], headers=document_headers(output, name))


# A printable list is a document of its own, styled by the <style> in its head (so it prints and
# saves as one file): it may use inline styles, and nothing else (no scripts, no requests).
DOCUMENT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
    "frame-ancestors 'none'; form-action 'none'; base-uri 'none'"
)


def document_headers(output: str, name: str) -> dict[str, str]:
    """How a list is served: the printable page opens inline under its own policy."""
    headers = {"Content-Disposition": disposition(output, name)}
    if output == "html":
        headers["Content-Security-Policy"] = DOCUMENT_CSP
    return headers


def disposition(output: str, name: str) -> str:
    """The printable page opens in the browser (to read, print or save); CSV and JSON download."""
    return f'{"inline" if output == "html" else "attachment"}; filename="{name}"'


def _tender(app: Web, tender_id: int) -> TenderRow:
    with app.store.sessions() as session:
        found = session.get(TenderRow, tender_id)
    if found is None:
        raise HTTPException(HTTP_404_NOT_FOUND, f"no tender {tender_id}")
    return found


@router.post("/tenders/{tender_id}/award", response_class=HTMLResponse)
def award_post(
    request: Request, tender_id: int, who: Operator, app: App, csrf_token: Text, record: Text = ""
) -> Response:
    """Store an award record (JSON); its problems are shown on the tender's page."""
    require_csrf(who, csrf_token)
    tender = _tender(app, tender_id)
    data, problems = decode(record.encode("utf-8"))
    parsed = problems or validate_award(data, tender.reference)
    try:
        if isinstance(parsed, list):
            raise AwardProblems(parsed)
        result = award(
            app.store.sessions,
            parsed,
            actor=who.principal.name,
            now=app.clock(),
            vat_rate=app.config.policy.vat_rate,
            tender=tender
            if (parsed.award.buyer, parsed.award.reference) == (tender.buyer, tender.reference)
            else None,
            enqueue=app.enqueue,
        )
        sent = "; ".join(f"{s['destination']}: {s['text']}" for s in result.steps) or "nothing to send"
        flash(app, who, "ok", f"{tender.reference} awarded. {sent}")
    except AwardProblems as exc:
        flash(
            app,
            who,
            "error",
            "The award was not recorded: " + "; ".join(f"{p.field}: {p.message}" for p in exc.problems),
        )
    except LifecycleError as exc:
        flash(app, who, "error", "; ".join(exc.problems))
    return RedirectResponse(f"/tenders/{tender_id}#award", status_code=303)


@router.post("/tenders/{tender_id}/contract-signed", response_class=HTMLResponse)
def signed_post(
    tender_id: int, who: Operator, app: App, csrf_token: Text, signed_on: Text = "", lot: Text = ""
) -> Response:
    """Record that a lot's contract was signed."""
    require_csrf(who, csrf_token)
    tender = _tender(app, tender_id)
    try:
        day = date.fromisoformat(signed_on)
        number = int(lot) if lot.strip() else None
    except ValueError:
        flash(app, who, "error", "Write the date as YYYY-MM-DD and the lot as a number")
        return RedirectResponse(f"/tenders/{tender_id}#award", status_code=303)
    try:
        result = contract_signed(
            app.store.sessions,
            buyer=tender.buyer,
            reference=tender.reference,
            lot=number,
            signed_on=day,
            actor=who.principal.name,
            now=app.clock(),
            enqueue=app.enqueue,
        )
        sent = "; ".join(f"{s['destination']}: {s['text']}" for s in result.steps) or "nothing to send"
        flash(app, who, "ok", f"Signature recorded. {sent}")
    except LifecycleError as exc:
        flash(app, who, "error", "; ".join(exc.problems))
    return RedirectResponse(f"/tenders/{tender_id}#award", status_code=303)

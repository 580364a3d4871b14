"""Awards and the transparency lists over the JSON API.

POST /api/tenders/{reference}/awards     an award record (operator): 201 {destinations}
                                         422 {problems} | 404 no tender | 409 refused
GET  /api/contracts?quarter=&buyer=      the quarterly contracts list as JSON (viewer)
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from starlette.status import HTTP_404_NOT_FOUND, HTTP_409_CONFLICT, HTTP_422_UNPROCESSABLE_CONTENT

from syndicator.intake.award import AwardProblems, award
from syndicator.intake.award_records import validate_award
from syndicator.intake.lifecycle import LifecycleError
from syndicator.intake.records import decode
from syndicator.ops.contracts import Quarter, contracts_list
from syndicator.ops.queries import find_tender
from syndicator.web.auth import api_role
from syndicator.web.context import Web, web
from syndicator.web.openapi import ApiRoute, errors
from syndicator.web.params import FilterField, TenderRef
from syndicator.web.tokens import Principal, Role

router = APIRouter(tags=["awards and contracts"], route_class=ApiRoute)
QUARTER = r"^(19|2\d)\d{2}-[Qq][1-4]$"  # a quarter of 1900-2999

Operator = Annotated[Principal, Depends(api_role(Role.OPERATOR))]
Viewer = Annotated[Principal, Depends(api_role(Role.VIEWER))]
App = Annotated[Web, Depends(web)]

_AWARD_BODY = {
    "requestBody": {
        "required": True,
        "description": "One award record (see examples/awards/): reference, buyer, decision_date, lots.",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


async def _body(request: Request) -> bytes:
    return await request.body()


def quarter_from(text: str) -> Quarter:
    """`quarter=2026-Q4`, or 422."""
    try:
        return Quarter.parse(text)
    except ValueError as exc:
        raise HTTPException(HTTP_422_UNPROCESSABLE_CONTENT, f"quarter: {exc}") from None


@router.post(
    "/tenders/{reference:path}/awards",
    summary="Award a tender: award notices to every destination that carries it",
    status_code=201,
    responses=errors(409),
    openapi_extra=_AWARD_BODY,
)
def post_award(
    reference: TenderRef, body: Annotated[bytes, Depends(_body)], principal: Operator, app: App
) -> JSONResponse:
    """Store the award and plan its notices (operator)."""
    with app.store.sessions() as session:
        tender = find_tender(session, reference)
    if tender is None:
        raise HTTPException(HTTP_404_NOT_FOUND, f"no tender {reference!r}")
    data, problems = decode(body)
    parsed = problems or validate_award(data, tender.reference)
    if isinstance(parsed, list):
        return _invalid(parsed)
    if (parsed.award.buyer, parsed.award.reference) != (tender.buyer, tender.reference):
        raise HTTPException(
            HTTP_409_CONFLICT,
            f"the record awards {parsed.award.buyer}/{parsed.award.reference}, "
            f"not {tender.buyer}/{tender.reference}",
        )
    try:
        result = award(
            app.store.sessions,
            parsed,
            actor=principal.name,
            now=app.clock(),
            vat_rate=app.config.policy.vat_rate,
            tender=tender,
            enqueue=app.enqueue,
        )
    except AwardProblems as exc:
        return _invalid(exc.problems)
    except LifecycleError as exc:
        raise HTTPException(
            HTTP_404_NOT_FOUND if exc.not_found else HTTP_409_CONFLICT, "; ".join(exc.problems)
        ) from None
    return JSONResponse(result.as_dict(), 201)


def _invalid(problems: list[Any]) -> JSONResponse:
    noun = "problem" if len(problems) == 1 else "problems"
    return JSONResponse(
        {
            "error": f"{len(problems)} {noun}; nothing was changed",
            "problems": [p.as_dict() for p in problems],
        },
        422,
    )


@router.get(
    "/contracts", summary="The quarterly contracts list (£25,000 and above, current at the quarter's end)"
)
def get_contracts(
    _: Viewer,
    app: App,
    quarter: Annotated[str, Query(description="The quarter, e.g. 2026-Q4.", pattern=QUARTER)],
    buyer: Annotated[FilterField | None, Query(description="Only this buyer's contracts (an id).")] = None,
) -> dict[str, Any]:
    """One row per supplier and lot, as `syndicator contracts-list --format csv` lists them."""
    chosen = quarter_from(quarter)
    with app.store.sessions() as session:
        rows = contracts_list(session, chosen, buyer or None)
    return {
        "quarter": str(chosen),
        "quarter_end": chosen.end.isoformat(),
        "buyer": buyer or None,
        "contracts": [row.as_dict() for row in rows],
    }

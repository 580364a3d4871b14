"""`POST /api/tenders/{reference}/amendments` and `/withdrawal`: a tender's life after
submission, for other systems (operator role). The same use-cases as `syndicator amend` and
`syndicator withdraw`.

    amendment: {"tender": <the full changed record>, "reason": "...", "kind": "change"|"correction"}
      --validate (the record's problems: 422) --amend--> 201 {version, changes, destinations}
      unknown tender 404 | refused (withdrawn, deadline passed, nothing changed, ...) 409
    withdrawal: {"reason": "..."} --withdraw--> 200 {destinations} | 404 | 409
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.status import HTTP_404_NOT_FOUND, HTTP_409_CONFLICT

from syndicator.intake.amend import amend
from syndicator.intake.lifecycle import LifecycleError
from syndicator.intake.records import validate_object
from syndicator.intake.withdraw import withdraw
from syndicator.ops.queries import find_tender
from syndicator.runtime.wiring import route_check, tender_context
from syndicator.store.models import TenderRow
from syndicator.web.auth import api_role
from syndicator.web.context import Web, web
from syndicator.web.openapi import ApiRoute, errors
from syndicator.web.params import Reason, TenderRef
from syndicator.web.tokens import Principal, Role

router = APIRouter(tags=["tenders"], route_class=ApiRoute)

Operator = Annotated[Principal, Depends(api_role(Role.OPERATOR))]
App = Annotated[Web, Depends(web)]


class AmendmentBody(BaseModel):
    """The next version of a tender, and why."""

    model_config = ConfigDict(extra="forbid", strict=True)

    tender: dict[str, Any] = Field(description="The full changed tender record (same buyer and reference).")
    reason: Reason = Field(description="Why the tender changes; it goes on the notices.")
    kind: Literal["change", "correction"] = Field(
        "change", description="A change of the procurement, or the correction of an error."
    )


class WithdrawalBody(BaseModel):
    """Why the procurement ends."""

    model_config = ConfigDict(extra="forbid", strict=True)

    reason: Reason = Field(description="Why the tender is withdrawn; it goes on the cancellation notices.")


def _stored(app: Web, reference: str) -> TenderRow:
    with app.store.sessions() as session:
        found = find_tender(session, reference)
    if found is None:
        raise HTTPException(HTTP_404_NOT_FOUND, f"no tender {reference!r}")
    return found


def _refused(exc: LifecycleError) -> HTTPException:
    status = HTTP_404_NOT_FOUND if exc.not_found else HTTP_409_CONFLICT
    return HTTPException(status, "; ".join(exc.problems))


@router.post(
    "/tenders/{reference:path}/amendments",
    summary="Amend a tender: its next version, with notices on every destination",
    status_code=201,
    responses=errors(409),
)
def post_amendment(reference: TenderRef, body: AmendmentBody, principal: Operator, app: App) -> JSONResponse:
    """Store the record as the tender's next version and plan its notices (operator)."""
    stored = _stored(app, reference)
    now = app.clock()
    context = tender_context(app.config, now.date())
    parsed = validate_object(body.tender, context, stored.reference, route_check(app.config))
    if isinstance(parsed, list):
        noun = "problem" if len(parsed) == 1 else "problems"
        return JSONResponse(
            {
                "error": f"{len(parsed)} {noun}; nothing was changed",
                "problems": [p.as_dict() for p in parsed],
            },
            422,
        )
    try:
        result = amend(
            app.store.sessions,
            parsed,
            reason=body.reason,
            correction=body.kind == "correction",
            policy=app.config.policy,
            thresholds=app.config.thresholds,
            actor=principal.name,
            now=now,
            expected=stored,
            enqueue=app.enqueue,
        )
    except LifecycleError as exc:
        raise _refused(exc) from None
    return JSONResponse(result.as_dict(), 201)


@router.post(
    "/tenders/{reference:path}/withdrawal",
    summary="Withdraw a tender: cancellation notices wherever the advert is",
    responses=errors(409),
)
def post_withdrawal(
    reference: TenderRef, body: WithdrawalBody, principal: Operator, app: App
) -> dict[str, Any]:
    """End the procurement (operator): unsent notices cancelled, cancellation notices sent."""
    stored = _stored(app, reference)
    try:
        result = withdraw(
            app.store.sessions,
            buyer=stored.buyer,
            reference=stored.reference,
            reason=body.reason,
            actor=principal.name,
            now=app.clock(),
            tender=stored,
            enqueue=app.enqueue,
        )
    except LifecycleError as exc:
        raise _refused(exc) from None
    return result.as_dict()

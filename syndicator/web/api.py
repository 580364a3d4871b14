"""The JSON API under `/api` (reads for viewers, actions for operators). Every action goes
through `syndicator.ops.actions` with the token's name as the actor, like the CLI's `--as`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field, StrictBool
from starlette.status import HTTP_404_NOT_FOUND, HTTP_409_CONFLICT, HTTP_422_UNPROCESSABLE_CONTENT

from syndicator.domain import limits
from syndicator.domain.states import ATTENTION
from syndicator.ops import actions as ops
from syndicator.ops.queries import audit, channel_health, deliveries, find_tender, tenders
from syndicator.store.models import AuditRow, DeliveryRow, TenderRow
from syndicator.web.auth import api_principal, api_role
from syndicator.web.awards_api import router as awards_router
from syndicator.web.context import Web, web
from syndicator.web.intake_api import router as intake_router
from syndicator.web.lifecycle_api import router as lifecycle_router
from syndicator.web.openapi import ApiRoute, errors
from syndicator.web.params import (
    REMOTE_URL_PATTERN,
    AttentionState,
    FilterField,
    FilterText,
    Page,
    Reason,
    RowId,
    Since,
    SinceText,
    Size,
    StateFilter,
    TenderRef,
)
from syndicator.web.tokens import Principal, Role
from syndicator.web.views import filters_from, iso, since_from, tender_detail

router = APIRouter(prefix="/api", route_class=ApiRoute)
REFUSED = errors(409)  # an action the current state does not allow (syndicator.ops.actions.OpsError)
router.include_router(intake_router)
router.include_router(lifecycle_router)
router.include_router(awards_router)

Viewer = Annotated[Principal, Depends(api_role(Role.VIEWER))]
Operator = Annotated[Principal, Depends(api_role(Role.OPERATOR))]
App = Annotated[Web, Depends(web)]
ATTENTION_STATES = sorted(s.value for s in ATTENTION)


class _Body(BaseModel):
    # strict: `"dry_run": 0` is a mistake to report, not a false to act on (it once ran a real re-push)
    model_config = ConfigDict(extra="forbid", strict=True)


class RepushBody(_Body):
    """Re-push one delivery."""

    reason: Reason = Field(description="Why, for the audit log.")
    force: StrictBool = Field(False, description="Also re-push a published delivery (it may appear twice).")


class BulkRepushBody(_Body):
    """Re-push every failed / needs-reconcile delivery matching the filters."""

    reason: Reason
    state: AttentionState | None = Field(None, description="failed or needs_reconcile (default: both).")
    destination: FilterField | None = None
    buyer: FilterField | None = None
    since: SinceText | None = None
    dry_run: StrictBool = Field(False, description="Only say which deliveries would be re-pushed.")


class ReconcileBody(_Body):
    """Settle an outcome-unknown delivery: published under a remote id, or send it again."""

    reason: Reason
    published_remote_id: str | None = Field(
        None, max_length=limits.REMOTE_ID, pattern=limits.NO_CONTROL_PATTERN
    )
    url: str | None = Field(None, max_length=limits.URL, pattern=REMOTE_URL_PATTERN)
    resend: StrictBool = False


class CancelBody(_Body):
    """Cancel a tender's deliveries that have not reached a channel."""

    reason: Reason


def _refused(exc: ops.OpsError) -> HTTPException:
    # Malformed input names its field (422); a refusal of a valid request is a conflict (409).
    status = HTTP_422_UNPROCESSABLE_CONTENT if isinstance(exc, ops.InvalidInput) else HTTP_409_CONFLICT
    return HTTPException(status, str(exc))


def _delivery_exists(app: Web, delivery_id: int) -> None:
    with app.store.sessions() as session:
        if session.get(DeliveryRow, delivery_id) is None:
            raise HTTPException(HTTP_404_NOT_FOUND, f"no delivery {delivery_id}")


def _tender(app: Web, reference: str) -> TenderRow:
    with app.store.sessions() as session:
        found = find_tender(session, reference)
    if found is None:
        raise HTTPException(HTTP_404_NOT_FOUND, f"no tender {reference!r}")
    return found


def audit_dict(row: AuditRow) -> dict[str, Any]:
    """The JSON form of an audit row (as `syndicator audit --json`)."""
    return {
        "id": row.id,
        "at": iso(row.at),
        "actor": row.actor,
        "action": row.action,
        "tender_id": row.tender_id,
        "delivery_id": row.delivery_id,
        "reason": row.reason,
        "details": row.details,
    }


@router.get("/me", tags=["operations"], summary="Who this token is")
def me(principal: Annotated[Principal, Depends(api_principal)]) -> dict[str, str]:
    """The calling token's name and role."""
    return {"name": principal.name, "role": principal.role.value}


@router.get("/tenders", tags=["tenders"], summary="Tenders, newest first, one state per destination")
def list_tenders(
    _: Viewer,
    app: App,
    search: FilterText = None,
    buyer: FilterText = None,
    state: StateFilter = None,
    page: Page = 1,
    size: Size = 25,
) -> dict[str, Any]:
    """A page of tenders, searchable by reference or title."""
    with app.store.sessions() as session:
        found = tenders(
            session,
            search=search or None,
            buyer=buyer or None,
            state=state.value if state else None,
            page=page,
            size=size,
        )
    return {
        "tenders": [
            {
                "id": t.id,
                "reference": t.reference,
                "buyer": t.buyer,
                "title": t.title,
                "created_at": iso(t.created_at),
                "cancelled_at": iso(t.cancelled_at),
                "deliveries": [
                    {"id": b.delivery_id, "destination": b.destination, "state": b.state} for b in t.badges
                ],
            }
            for t in found.items
        ],
        "total": found.total,
        "page": page,
        "pages": found.pages,
    }


@router.post(
    "/tenders/{reference:path}/cancel",
    tags=["tenders"],
    summary="Cancel a tender's outstanding deliveries",
    responses=REFUSED,
)
def cancel_tender(reference: TenderRef, body: CancelBody, principal: Operator, app: App) -> dict[str, Any]:
    """Cancel every delivery of a tender that has not reached a channel yet (operator)."""
    tender = _tender(app, reference)
    try:
        result = ops.cancel(
            app.store.sessions, str(tender.id), actor=principal.name, reason=body.reason, now=app.clock()
        )
    except ops.OpsError as exc:
        raise _refused(exc) from None
    return result.as_dict()


@router.get(
    "/tenders/{reference:path}", tags=["tenders"], summary="A tender with its route, deliveries and attempts"
)
def get_tender(reference: TenderRef, _: Viewer, app: App) -> dict[str, Any]:
    """By id, reference, or buyer/reference (the shape of `syndicator show --json`)."""
    with app.store.sessions() as session:
        tender = find_tender(session, reference)
        if tender is None:
            raise HTTPException(HTTP_404_NOT_FOUND, f"no tender {reference!r}")
        return tender_detail(session, tender).as_dict()


@router.get("/deliveries", tags=["deliveries"], summary="Deliveries, newest first, with counts by state")
def list_deliveries(
    _: Viewer,
    app: App,
    state: StateFilter = None,
    destination: FilterText = None,
    buyer: FilterText = None,
    since: Since = None,
    search: FilterText = None,
    page: Page = 1,
    size: Size = 50,
) -> dict[str, Any]:
    """The items of `syndicator status --json`, filtered and paged."""
    filters = filters_from(
        app.clock(),
        state=state.value if state else None,
        destination=destination,
        buyer=buyer,
        since=since,
        search=search,
    )
    with app.store.sessions() as session:
        found = deliveries(session, filters, page, size)
    return {
        "deliveries": [d.as_dict() for d in found.items],
        "counts": found.counts,
        "total": found.total,
        "page": page,
        "pages": found.pages,
    }


@router.post(
    "/deliveries/repush",
    tags=["deliveries"],
    summary="Re-push every failed delivery matching a filter",
    responses=REFUSED,
)
def repush_matching(body: BulkRepushBody, principal: Operator, app: App) -> dict[str, Any]:
    """Failed and needs-reconcile deliveries only; `dry_run` lists them without changing anything."""
    now = app.clock()
    filters = filters_from(
        now,
        state=body.state,
        destination=body.destination,
        buyer=body.buyer,
        since=body.since,
        allowed_states=ATTENTION_STATES,
    )
    try:
        result = ops.repush_matching(
            app.store.sessions,
            filters,
            actor=principal.name,
            reason=body.reason,
            now=now,
            dry_run=body.dry_run,
            enqueue=app.enqueue,
        )
    except ops.OpsError as exc:
        raise _refused(exc) from None
    return result.as_dict() | {"dry_run": body.dry_run}


@router.post(
    "/deliveries/{delivery_id}/repush", tags=["deliveries"], summary="Re-push one delivery", responses=REFUSED
)
def repush_one(delivery_id: RowId, body: RepushBody, principal: Operator, app: App) -> dict[str, Any]:
    """Send a failed or needs-reconcile delivery again (operator)."""
    _delivery_exists(app, delivery_id)
    try:
        result = ops.repush(
            app.store.sessions,
            delivery_id,
            actor=principal.name,
            reason=body.reason,
            now=app.clock(),
            force=body.force,
            enqueue=app.enqueue,
        )
    except ops.OpsError as exc:
        raise _refused(exc) from None
    return result.as_dict()


@router.post(
    "/deliveries/{delivery_id}/reconcile",
    tags=["deliveries"],
    summary="Settle an outcome-unknown delivery",
    responses=REFUSED,
)
def reconcile(delivery_id: RowId, body: ReconcileBody, principal: Operator, app: App) -> dict[str, Any]:
    """Either `published_remote_id` (it is on the channel) or `resend: true` (operator)."""
    _delivery_exists(app, delivery_id)
    try:
        result = ops.reconcile(
            app.store.sessions,
            delivery_id,
            actor=principal.name,
            reason=body.reason,
            now=app.clock(),
            published_remote_id=(body.published_remote_id or "").strip() or None,
            url=(body.url or "").strip() or None,
            resend=body.resend,
            enqueue=app.enqueue,
        )
    except ops.OpsError as exc:
        raise _refused(exc) from None
    return result.as_dict()


@router.get(
    "/channels", tags=["operations"], summary="Per destination: breaker, backlog, oldest due, last success"
)
def channels(_: Viewer, app: App) -> dict[str, Any]:
    """The data of `syndicator channels --json`."""
    with app.store.sessions() as session:
        health = channel_health(session, app.destinations(), app.clock())
    return {"channels": [h.as_dict() for h in health]}


@router.get("/audit", tags=["operations"], summary="Manual actions, newest first")
def audit_log(
    _: Viewer,
    app: App,
    actor: FilterText = None,
    action: FilterText = None,
    since: Since = None,
    page: Page = 1,
    size: Size = 50,
) -> dict[str, Any]:
    """Who did what, when and why."""
    with app.store.sessions() as session:
        rows = audit(
            session,
            actor=actor or None,
            action=action or None,
            since=since_from(since, app.clock()),
            limit=size + 1,
            offset=(page - 1) * size,
        )
    return {"audit": [audit_dict(r) for r in rows[:size]], "page": page, "has_more": len(rows) > size}

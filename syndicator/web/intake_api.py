"""`POST /api/tenders`: the trigger other systems call when a tender is created.

body (one tender object or an array, exactly like a file for `syndicator validate`)
  --records.read_bytes + route_check--> 422 {"problems": [{"record", "field", "message"}]}
  --intake.submit (persist, then enqueue)--> 201 created | 200 all unchanged | 409 conflict
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse

from syndicator.intake.records import MAX_FILE_BYTES, MAX_RECORDS, read_bytes
from syndicator.intake.submit import Outcome, submit
from syndicator.runtime.wiring import route_check, tender_context
from syndicator.web import idempotency
from syndicator.web.auth import api_role
from syndicator.web.context import Web, web
from syndicator.web.openapi import ApiRoute, errors
from syndicator.web.tokens import Principal, Role

router = APIRouter(tags=["tenders"], route_class=ApiRoute)

_TENDER = {"$ref": "#/components/schemas/Tender"}
_TENDER_BODY = {
    "requestBody": {
        "required": True,
        "description": "One tender record, or a non-empty array of them (the format of "
        "`syndicator validate` files; see examples/).",
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        _TENDER,
                        {"type": "array", "items": _TENDER, "minItems": 1, "maxItems": MAX_RECORDS},
                    ]
                }
            }
        },
    }
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Every record was already submitted with the same content; nothing changed."},
    201: {"description": 'Submitted: `{"submissions": [...]}`, one per record.'},
    **errors(409, 422),
}
_RESPONSES[409]["description"] = (
    "A record reuses a reference with different content (nothing changed for it); `submissions` says "
    "what happened to each record."
)
_RESPONSES[422]["description"] = (
    'Invalid records: `{"error": ..., "problems": [{"record", "field", "message"}]}`, the problems '
    "`syndicator validate` prints; nothing was changed. Also an `Idempotency-Key` reused with a "
    "different body, or a key longer than 200 characters."
)


async def _body(request: Request) -> bytes:
    return await request.body()


def _outcome(records: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    outcomes = {r["outcome"] for r in records}
    if Outcome.CONFLICT.value in outcomes:
        conflicts = [r["message"] for r in records if r["outcome"] == Outcome.CONFLICT.value]
        return 409, {"error": "; ".join(conflicts), "submissions": records}
    status = 201 if Outcome.CREATED.value in outcomes else 200
    return status, {"submissions": records}


def _process(app: Web, principal: Principal, body: bytes) -> tuple[int, dict[str, Any]]:
    if len(body) > MAX_FILE_BYTES:
        return 413, {"error": f"the body is {len(body)} bytes; at most {MAX_FILE_BYTES}"}
    now = app.clock()
    context = tender_context(app.config, now.date())
    parsed, problems = read_bytes(body, context, route_check(app.config))
    if problems:
        noun = "problem" if len(problems) == 1 else "problems"
        return 422, {
            "error": f"{len(problems)} {noun}; nothing was changed",
            "problems": [p.as_dict() for p in problems],
        }
    results = submit(
        app.store.sessions,
        parsed,
        app.config.policy,
        app.config.thresholds,
        principal.name,
        now,
        app.enqueue,
    )
    return _outcome([r.as_dict() for r in results])


@router.post(
    "/tenders",
    summary="Submit tenders: validate, route, persist, enqueue",
    status_code=201,
    responses=_RESPONSES,
    openapi_extra=_TENDER_BODY,
)
def submit_tenders(
    request: Request,
    # The token is checked before the body is read (and TokenFirst did so before FastAPI could).
    principal: Annotated[Principal, Depends(api_role(Role.OPERATOR))],
    body: Annotated[bytes, Depends(_body)],
    app: Annotated[Web, Depends(web)],
    idempotency_key: Annotated[
        str | None,
        Header(description="Any unique string; a retry with the same key and body gets the first answer."),
    ] = None,
) -> JSONResponse:
    """Submit one tender or an array of them (operator)."""
    if idempotency_key is None:
        status, answer = _process(app, principal, body)
        return JSONResponse(answer, status)
    key = idempotency_key.strip()
    if not key or len(key) > idempotency.MAX_KEY:
        return JSONResponse({"error": f"Idempotency-Key must be 1 to {idempotency.MAX_KEY} characters"}, 422)
    digest = idempotency.request_hash(request.method, request.url.path, body)
    stored = idempotency.lookup(app.store.sessions, principal.token_id, key, digest)
    if stored is None:
        status, answer = _process(app, principal, body)
        if status == 413:
            return JSONResponse(answer, status)
        stored = idempotency.remember(
            app.store.sessions, principal.token_id, key, digest, status, answer, app.clock()
        )
        if stored.same_request and stored.body == answer:
            return JSONResponse(answer, status)
    if not stored.same_request:
        return JSONResponse(
            {
                "error": f"Idempotency-Key {key!r} was already used with a different request body; "
                "send a new key for a new request"
            },
            422,
        )
    return JSONResponse(stored.body, stored.status_code, headers={"Idempotent-Replayed": "true"})

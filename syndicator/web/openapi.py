"""The API's description, kept truthful by construction rather than by hand.

`ApiRoute` (the route class of every router under /api) derives from each route what it can
answer and enforces what it documents:

    every route           401 no valid token, 429 throttled (Bearer security scheme from auth.py)
    parameters or body    422 with {"error", "problems": [{"field", "message"}]}
    a path parameter      404
    a JSON body           413 too large, 415 not application/json (checked before reading it)
    a role above viewer   403

Routes add what only they know (409 for refused actions) with `errors(409)`. `describe` builds
the document: FastAPI's, plus the error and tender schemas as components.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response, params
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.status import HTTP_415_UNSUPPORTED_MEDIA_TYPE

from syndicator.domain import limits
from syndicator.domain.tender import Tender
from syndicator.web.auth import RoleCheck
from syndicator.web.tokens import Role

REF = "#/components/schemas/{model}"
JSON = "application/json"
ANSWERS = {
    401: "No valid token: send `Authorization: Bearer <token>`.",
    403: "The token's role does not allow this.",
    404: "No such tender or delivery.",
    409: "Refused in the current state; `error` says why. Nothing was changed.",
    413: f"The body is larger than {limits.MAX_BODY_BYTES} bytes.",
    415: "The body is not `application/json`.",
    422: "Invalid parameters or body: `problems` names each field.",
    429: "Too many failed sign-ins or bad tokens from this address; wait `Retry-After` seconds.",
}


class Problem(BaseModel):
    """One thing wrong with a request."""

    field: str = Field(description="The parameter or body field (for tender records, the field path).")
    message: str
    record: str | None = Field(None, description="Tender intake: the record's reference or #position.")


class ErrorBody(BaseModel):
    """Every refusal and failure."""

    error: str = Field(description="What went wrong, in plain words.")
    problems: list[Problem] | None = None
    submissions: list[dict[str, Any]] | None = Field(None, description="Tender intake: per record.")


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses for these error statuses, each with the `ErrorBody` schema."""
    schema = {"$ref": REF.format(model="ErrorBody")}
    return {code: {"description": ANSWERS[code], "content": {JSON: {"schema": schema}}} for code in codes}


def is_json(content_type: str | None) -> bool:
    """Whether a Content-Type header names JSON (parameters such as charset allowed)."""
    return (content_type or "").split(";", 1)[0].strip().lower() == JSON


def _roles(dependant: Dependant) -> list[Role]:
    found = [dependant.call.needed] if isinstance(dependant.call, RoleCheck) else []
    for sub in dependant.dependencies:
        found += _roles(sub)
    return found


class ApiRoute(APIRoute):
    """A JSON API route: documented error answers, and 415 for a body that is not JSON."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        d = self.dependant
        codes = {401, 429}
        if d.path_params:
            codes.add(404)
        if d.path_params or d.query_params or d.header_params or self.takes_json:
            codes.add(422)
        if self.takes_json:
            codes |= {413, 415}
        if any(role is not Role.VIEWER for role in _roles(d)):
            codes.add(403)
        for code, answer in errors(*sorted(codes)).items():
            self.responses.setdefault(code, answer)

    @property
    def takes_json(self) -> bool:
        """Whether this route reads a JSON body (a model, or raw bytes described in openapi_extra)."""
        extra = getattr(self, "openapi_extra", None) or {}
        model = self.body_field is not None and not isinstance(self.body_field.field_info, params.Form)
        return model or "requestBody" in extra

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The handler, preceded by the media type check (before the body is read)."""
        handler = super().get_route_handler()
        if not self.takes_json:
            return handler

        parsed_by_fastapi = self.body_field is not None

        async def checked(request: Request) -> Response:
            if not is_json(request.headers.get("content-type")):
                raise HTTPException(
                    HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                    f"send the body as JSON, with Content-Type: {JSON}",
                )
            if parsed_by_fastapi:
                # FastAPI answers a body that is not UTF-8 with an undocumented 400; JSON is UTF-8
                # (RFC 8259), so this is one more malformed body. The body is cached for the route.
                try:
                    (await request.body()).decode("utf-8")
                except UnicodeDecodeError as exc:
                    problem: dict[str, Any] = {"type": "json_invalid", "loc": ("body",), "msg": "not UTF-8"}
                    problem["ctx"] = {"error": f"not UTF-8 text (byte {exc.start})"}
                    raise RequestValidationError([problem]) from None
            return await handler(request)

        return checked


def _components(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=REF)
    found = schema.pop("$defs", {})
    found[model.__name__] = schema
    return dict(found)


def describe(api: FastAPI, buyers: list[str]) -> dict[str, Any]:
    """The OpenAPI document, built once per application."""
    if api.openapi_schema is not None:
        return api.openapi_schema
    spec = get_openapi(
        title=api.title,
        version=api.version,
        summary=api.summary,
        description=api.description,
        routes=api.routes,
    )
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(_components(ErrorBody))
    tender = _components(Tender)
    # What the validators check and the generated schema cannot see (syndicator/domain/tender.py).
    tender["Tender"]["properties"]["buyer"] |= {"enum": sorted(buyers)}
    tender["Tender"]["properties"]["reference"] |= {
        "pattern": r"^[A-Za-z0-9][A-Za-z0-9/_.\-]{0,63}$",
        "maxLength": 64,
    }
    schemas.update(tender)
    api.openapi_schema = spec
    return spec

"""The OCDS schemas, loaded offline from a vendored folder, as a check an adapter runs before
sending (a notice the portal would refuse fails at render, with the schema's words) and the
tests run on every rendered notice.

    schema(folder)  -> OcdsSchema            one per folder per process (validators are immutable)
    .package_errors(document) / .release_errors(document) -> [SchemaError(path, message)]
    .check_package(document, channel)        raises RenderError listing the first errors

The folder holds `release-schema.json` and `release-package-schema.json` (JSON Schema draft 4);
the package schema names the release schema by its canonical URL, which a `referencing` registry
maps to the local file, so validation never touches the network. `OCDS_1_1_5` is the core
standard (channels/schemas/ocds-1.1.5/SOURCE.md); a profile with extensions applied (Find a
Tender's UK profile) is another folder with the same two files.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft4Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from syndicator.channel.errors import RenderError

OCDS_1_1_5 = Path(__file__).resolve().parents[1] / "schemas" / "ocds-1.1.5"
SHOWN = 5  # errors quoted in a RenderError
# RFC 3339 section 5.6 date-time (OCDS's "date-time" format); the value is then parsed, so a
# 30 February or a 25th hour is refused too.
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


@dataclass(frozen=True)
class SchemaError:
    """One way a document breaks the schema: where ('releases/0/tender/status') and why."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '(root)'}: {self.message}"


def _format_checker() -> FormatChecker:
    """date-time and uri checks that do not depend on jsonschema's optional extras."""
    checker = FormatChecker(formats=())

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not _DATE_TIME.fullmatch(value):
            raise ValueError("not an RFC 3339 date-time with a UTC offset")
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        return True

    @checker.checks("uri", raises=ValueError)
    def _uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not urlsplit(value).scheme or any(c.isspace() for c in value):
            raise ValueError("not an absolute URI")
        return True

    return checker


def _order(error: ValidationError) -> list[tuple[int, int, str]]:
    # paths mix list indexes and property names; sort them in document order
    return [(0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in error.absolute_path]


class OcdsSchema:
    """The release and release package schemas of one OCDS version or profile."""

    def __init__(self, folder: Path) -> None:
        release = json.loads((folder / "release-schema.json").read_text("utf-8"))
        package = json.loads((folder / "release-package-schema.json").read_text("utf-8"))
        checker = _format_checker()
        resource = Resource.from_contents(release, default_specification=DRAFT4)
        registry: Registry[Any] = Registry().with_resource(release["id"], resource)
        self.folder = folder
        self.release_schema: dict[str, Any] = release
        self._release = Draft4Validator(release, format_checker=checker)
        self._package = Draft4Validator(package, registry=registry, format_checker=checker)

    def package_errors(self, document: Any) -> list[SchemaError]:
        """Every way a release package breaks the schema, in document order."""
        return self._errors(self._package, document)

    def release_errors(self, document: Any) -> list[SchemaError]:
        """Every way a single release breaks the schema, in document order."""
        return self._errors(self._release, document)

    def check_package(self, document: Any, channel: str) -> None:
        """Raise RenderError if the package breaks the schema: it would only be refused."""
        errors = self.package_errors(document)
        if errors:
            shown = "; ".join(str(e) for e in errors[:SHOWN])
            more = f" (and {len(errors) - SHOWN} more)" if len(errors) > SHOWN else ""
            raise RenderError(f"{channel}: the release package breaks {self.folder.name}: {shown}{more}")

    @staticmethod
    def _errors(validator: Draft4Validator, document: Any) -> list[SchemaError]:
        found = sorted(validator.iter_errors(document), key=_order)
        return [SchemaError("/".join(str(p) for p in e.absolute_path), e.message[:500]) for e in found]


@functools.cache
def schema(folder: Path = OCDS_1_1_5) -> OcdsSchema:
    """The schemas in `folder`, loaded once per process."""
    return OcdsSchema(folder)

"""The official eForms XSDs, vendored in `channels/schemas/eforms-1.15.1/` (CC BY 4.0, see
SOURCE.md there): every rendered notice is checked against the XSD of its root element before
it leaves, and refused (RenderError) when it breaks it.

    ContractNotice       maindoc/UBL-ContractNotice-2.3.xsd       subtype 16 and its changes
    ContractAwardNotice  maindoc/UBL-ContractAwardNotice-2.3.xsd  subtype 29
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from channels.ted.ubl import CONTRACT_AWARD_NOTICE, CONTRACT_NOTICE
from syndicator.channel.base import RenderError
from syndicator.channel.xmlsafe import load_schema, parse

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas" / "eforms-1.15.1"
MAINDOC = SCHEMA_DIR / "maindoc"
ROOTS = {
    f"{{{CONTRACT_NOTICE}}}ContractNotice": MAINDOC / "UBL-ContractNotice-2.3.xsd",
    f"{{{CONTRACT_AWARD_NOTICE}}}ContractAwardNotice": MAINDOC / "UBL-ContractAwardNotice-2.3.xsd",
}
MAX_SCHEMA_ERRORS = 5


@dataclass(frozen=True)
class SchemaCheck:
    """One eForms XSD, with a lock: an lxml schema keeps one error log."""

    schema: etree.XMLSchema
    lock: threading.Lock

    def errors(self, document: etree._Element) -> list[str]:
        """Every XSD violation, as 'line N: message'."""
        with self.lock:
            if self.schema.validate(document):
                return []
            return [f"line {error.line}: {error.message}" for error in self.schema.error_log]


@functools.cache
def schema_for(root: str) -> SchemaCheck:
    """The XSD of a root element (Clark notation), loaded once per process."""
    return SchemaCheck(load_schema(ROOTS[root]), threading.Lock())


def contract_notice_schema() -> SchemaCheck:
    """The ContractNotice XSD (subtype 16 and its change notices)."""
    return schema_for(f"{{{CONTRACT_NOTICE}}}ContractNotice")


def errors(body: bytes) -> list[str]:
    """Every way a rendered notice breaks the XSD of its root."""
    document = parse(body)
    if document.tag not in ROOTS:
        return [f"line 1: {document.tag} is not a notice root TED receives here"]
    return schema_for(document.tag).errors(document)


def validated(body: bytes) -> bytes:
    """The notice, once it is valid against its XSD; RenderError naming the first errors."""
    found = errors(body)
    if found:
        shown = "; ".join(found[:MAX_SCHEMA_ERRORS])
        raise RenderError(f"the notice breaks the eForms 1.15 XSD ({len(found)} errors): {shown}")
    return body

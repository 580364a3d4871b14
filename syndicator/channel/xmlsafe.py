"""Hardened XML parsing for anything that comes from outside (responses, received notices):
no DTD, no entity expansion, no network, bounded size.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

MAX_XML_BYTES = 5 * 1024 * 1024


class UnsafeXml(ValueError):
    """The document is too large, malformed, or carries a DOCTYPE."""


class _LocalOnly(etree.Resolver):
    """Refuse anything that is not a local file (schema imports included)."""

    def resolve(self, url, pubid, context):
        if url and "://" in url and not url.startswith("file:"):
            raise UnsafeXml(f"refusing to fetch {url!r}")
        return None


def parser() -> etree.XMLParser:
    """A parser that never resolves entities, loads a DTD or touches the network."""
    hardened = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )
    hardened.resolvers.add(_LocalOnly())
    return hardened


def parse(data: bytes, limit: int = MAX_XML_BYTES) -> etree._Element:
    """Parse untrusted XML bytes into an element."""
    if len(data) > limit:
        raise UnsafeXml(f"document is {len(data)} bytes; at most {limit} are accepted")
    try:
        tree = etree.fromstring(data, parser=parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        raise UnsafeXml(f"malformed XML: {exc}") from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise UnsafeXml("DOCTYPE declarations are not accepted")
    return tree.getroot()


def load_schema(path: Path) -> etree.XMLSchema:
    """Load an XSD from the project's own files (imports resolve locally only)."""
    document = etree.parse(str(path), parser=parser())
    return etree.XMLSchema(document)


def canonical(data: bytes) -> bytes:
    """Exclusive C14N of a document: how golden files are compared."""
    return etree.tostring(parse(data).getroottree(), method="c14n", exclusive=True)

"""The UBL vocabulary every TED notice is written in: namespaces, element makers, and how
values are written (dates with their offset, codes with their list, texts with their language,
amounts, CPV codes). Built with lxml only: text goes into elements and is escaped by lxml.

Two roots are used: `ContractNotice` (subtype 16 and its change notices) and
`ContractAwardNotice` (subtype 29). Only the root's default namespace differs; every other
element is prefixed (cac, cbc, ext, efac, efbc, efext), so the makers below serve both.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from lxml import etree
from lxml.builder import ElementMaker

from syndicator.channel.base import RenderError

CUSTOMIZATION_ID = "eforms-sdk-1.15"  # OPT-002: the SDK major.minor the notice is written to
LEGAL_BASIS = "32014L0024"  # BT-01: Directive 2014/24/EU
LANGUAGE = "ENG"  # BT-702(a), and the languageID of every text
COUNTRY = "GBR"  # BT-514 / BT-5141; GBR is outside NUTS, so BT-507/BT-5071 are left out

CONTRACT_NOTICE = "urn:oasis:names:specification:ubl:schema:xsd:ContractNotice-2"
CONTRACT_AWARD_NOTICE = "urn:oasis:names:specification:ubl:schema:xsd:ContractAwardNotice-2"

PREFIXES = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "ext": "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2",
    "efac": "http://data.europa.eu/p27/eforms-ubl-extension-aggregate-components/1",
    "efbc": "http://data.europa.eu/p27/eforms-ubl-extension-basic-components/1",
    "efext": "http://data.europa.eu/p27/eforms-ubl-extensions/1",
}
# For XPath on a rendered notice of either root ("cn" and "can" name the roots).
XPATH_NS = {"cn": CONTRACT_NOTICE, "can": CONTRACT_AWARD_NOTICE, **PREFIXES}

CAC = ElementMaker(namespace=PREFIXES["cac"], nsmap=PREFIXES)
CBC = ElementMaker(namespace=PREFIXES["cbc"], nsmap=PREFIXES)
EXT = ElementMaker(namespace=PREFIXES["ext"], nsmap=PREFIXES)
EFAC = ElementMaker(namespace=PREFIXES["efac"], nsmap=PREFIXES)
EFBC = ElementMaker(namespace=PREFIXES["efbc"], nsmap=PREFIXES)
EFEXT = ElementMaker(namespace=PREFIXES["efext"], nsmap=PREFIXES)


def root_maker(namespace: str) -> ElementMaker:
    """The maker of a notice's root element: its namespace is the default one."""
    nsmap: dict[str | None, str] = {None: namespace}
    nsmap.update(PREFIXES)
    return ElementMaker(namespace=namespace, nsmap=nsmap)


def serialise(root: etree._Element) -> bytes:
    """UTF-8 bytes with an XML declaration, pretty-printed (the same tree, the same bytes)."""
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def date(moment: datetime) -> str:
    """An xsd:date with its offset, in UTC (eForms requires the offset)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dZ")


def time(moment: datetime) -> str:
    """An xsd:time with its offset, in UTC."""
    return moment.astimezone(UTC).strftime("%H:%M:%SZ")


def cpv(code: str) -> str:
    """A CPV code as eForms lists it: the 8 digits, without the check digit."""
    return code.split("-")[0]


def nature(code: str) -> str:
    """The contract nature a CPV code belongs to (the divisions TED checks, BR-BT-00262-02nn)."""
    division = int(code[:2])
    if division == 45:
        return "works"
    if division <= 44 or division == 48:
        return "supplies"
    return "services"


def amount(value: Decimal) -> etree._Element:
    """BT-27: an estimated value, net of VAT, in GBP."""
    return CBC.EstimatedOverallContractAmount(f"{value:.2f}", currencyID="GBP")


def code(tag: str, list_name: str, value: str) -> etree._Element:
    """A cbc code element with the code list it comes from."""
    return CBC(tag, value, listName=list_name)


def text(tag: str, value: str) -> etree._Element:
    """A cbc text element in the notice's language."""
    return CBC(tag, value, languageID=LANGUAGE)


def org_ref(wrapper: str, org: str) -> etree._Element:
    """A reference to one of efac:Organizations by its ORG-nnnn id."""
    return CAC(wrapper, CAC.PartyIdentification(CBC.ID(org, schemeName="organization")))


def document(make: Callable[[], etree._Element]) -> bytes:
    """The bytes of the notice `make` builds; text XML 1.0 cannot carry (control characters,
    U+FFFE) is a RenderError rather than a broken or silently altered notice."""
    try:
        root = make()
    except ValueError as exc:  # lxml refuses characters XML 1.0 cannot carry
        raise RenderError(f"the notice contains text XML cannot carry: {exc}") from None
    return serialise(root)


# Characters XML 1.0 cannot carry (C0 controls but tab, line feed and carriage return;
# surrogates; U+FFFE, U+FFFF).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def prose(value: str) -> str:
    """Free text a person typed for people (a reason): a character XML 1.0 cannot carry
    becomes a space, so a stray control character never blocks a change or a withdrawal.
    Tender fields are never altered: intake refuses such characters there."""
    return _NOT_XML.sub(" ", value).strip()

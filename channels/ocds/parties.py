"""OCDS parties (release-schema.json definitions Organization, Address, ContactPoint,
OrganizationReference): who the buyer is, where, and whom bidders contact.

A party's `id` is what `buyer`, `tender.procuringEntity` and (later) `awards[].suppliers` refer
to, so every builder here takes the organisation's id from one place: `Organisation.org_id`.
Find a Tender adds an `identifier` (scheme GB-PPON) and `details.classifications` (UK_CA_TYPE):
pass the identifier here and add `details` to the returned dict.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from channels.ocds.codelists import PartyRole
from syndicator.channel.errors import RenderError
from syndicator.config.buyers import Organisation
from syndicator.domain.tender import Contact, Place

# OCDS 1.1 addresses carry a country *name* (Address.countryName); the records hold ISO codes.
COUNTRY_NAMES = {"GB": "United Kingdom"}


def country_name(code: str) -> str:
    """The country's name for Address.countryName; an unknown code cannot be written."""
    name = COUNTRY_NAMES.get(code)
    if name is None:
        raise RenderError(f"no OCDS country name is known for {code!r}")
    return name


def organisation_address(organisation: Organisation) -> dict[str, Any]:
    """An organisation's postal address."""
    return {
        "streetAddress": organisation.address,
        "locality": organisation.town,
        "postalCode": organisation.postcode,
        "countryName": country_name(organisation.country),
    }


def place_address(place: Place) -> dict[str, Any]:
    """Where a contract is performed, as an Address (Location extension: items' deliveryAddress)."""
    address: dict[str, Any] = {"locality": place.town}
    if place.postcode:
        address["postalCode"] = place.postcode
    address["countryName"] = country_name(place.country)
    return address


def contact_point(contact: Contact) -> dict[str, Any]:
    """The tender's contact as a ContactPoint."""
    point: dict[str, Any] = {"name": contact.name, "email": contact.email}
    if contact.phone:
        point["telephone"] = contact.phone
    return point


def party(
    organisation: Organisation,
    roles: Sequence[PartyRole],
    *,
    contact: Contact | None = None,
    identifier: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One entry of `parties`."""
    found: dict[str, Any] = {"id": organisation.org_id, "name": organisation.legal_name}
    if identifier is not None:
        found["identifier"] = identifier
    found["address"] = organisation_address(organisation)
    if contact is not None:
        found["contactPoint"] = contact_point(contact)
    found["roles"] = [str(role) for role in roles]
    return found


def reference(organisation: Organisation) -> dict[str, Any]:
    """An OrganizationReference ({id, name}) to a party listed in `parties`."""
    return {"id": organisation.org_id, "name": organisation.legal_name}

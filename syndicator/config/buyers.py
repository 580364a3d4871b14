"""The buying organisations in `config/buyers.toml`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from syndicator.config.files import ConfigError, read_toml, validate

REVIEW_BODY_KEY = "_review_body"
PUBLISHER_KEY = "_publisher"
_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


class Organisation(BaseModel):
    """A legal entity named on notices: a buyer, or the review body."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    legal_name: str = Field(min_length=1, max_length=200)
    org_id: str = Field(min_length=1, max_length=100)
    address: str = Field(min_length=1, max_length=300)
    town: str = Field(min_length=1, max_length=100)
    postcode: str = Field(min_length=5, max_length=8)
    country: str = "GB"
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str = Field(min_length=7, max_length=30)
    website: str = Field(pattern=r"^https://")
    legal_type: str = "body-pl"
    activity: str = "pub-os"
    # The Central Digital Platform's identifier (Procurement Act 2023): Find a Tender names the
    # buyer by it, and the buyer's notices are looked up by it (with any older identifiers).
    ppon: str | None = Field(default=None, pattern=r"^GB-PPON-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$")
    other_identifiers: list[str] = Field(default_factory=list)  # e.g. GB-FTS-135781 on older releases
    # Who publishes the buyer's Find a Tender notices: this product ("publish"), or the buyer's
    # own e-tendering tool, whose notice this product then adopts instead of publishing twice.
    fts_mode: Literal["publish", "adopt"] = "publish"

    @field_validator("country")
    @classmethod
    def _gb(cls, value: str) -> str:
        if value != "GB":
            raise ValueError("only GB organisations are supported")
        return value


class Publisher(BaseModel):
    """Who publishes the transparency data (the contracts lists as OCDS): its name, web address
    and the OCID prefix registered with the Open Contracting Partnership."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    uri: str = Field(pattern=r"^https://")
    ocid_prefix: str = Field(pattern=r"^ocds-[a-z0-9]{6}$")


class Buyers(BaseModel):
    """Every known buyer by id, and the review body named on TED notices."""

    model_config = ConfigDict(frozen=True)

    by_id: dict[str, Organisation]
    review_body: Organisation
    publisher: Publisher = Publisher(
        name="East Midlands Strategic Commercial Unit",
        uri="https://www.emscu.example.police.uk",
        ocid_prefix="ocds-emsx01",
    )

    def get(self, buyer_id: str) -> Organisation:
        """The buyer with this id (validation guarantees it exists)."""
        return self.by_id[buyer_id]

    @property
    def ids(self) -> frozenset[str]:
        """The ids a tender's `buyer` may take."""
        return frozenset(self.by_id)


def load_buyers(path: Path) -> Buyers:
    """Read `buyers.toml`."""
    data = read_toml(path)
    if REVIEW_BODY_KEY not in data:
        raise ConfigError(str(path), REVIEW_BODY_KEY, "is required (the review body for notices)")
    review = validate(Organisation, data.pop(REVIEW_BODY_KEY), str(path), REVIEW_BODY_KEY)
    publisher = data.pop(PUBLISHER_KEY, None)
    if not data:
        raise ConfigError(str(path), "(file)", "defines no buyer")
    buyers = {}
    for buyer_id, table in data.items():
        if not _ID.fullmatch(buyer_id):
            raise ConfigError(str(path), buyer_id, "a buyer id is lower-case letters, digits and -")
        if not isinstance(table, dict):
            raise ConfigError(str(path), buyer_id, "must be a table of the buyer's details")
        buyers[buyer_id] = validate(Organisation, table, str(path), buyer_id)
    if publisher is None:
        return Buyers(by_id=buyers, review_body=review)
    return Buyers(
        by_id=buyers, review_body=review, publisher=validate(Publisher, publisher, str(path), PUBLISHER_KEY)
    )

"""Per-buyer API keys and the channel's settings.

Each contracting authority generates its own Central Digital Platform API key and gives it to
its eSender (UK-NOTICES.md section 9, "API keys are issued per contracting authority"), so a
notice is sent with the key of the buyer it is for. Keys arrive per buyer from
SYNDICATOR_FIND_A_TENDER_KEY_<BUYER ID, upper case, - as _>, e.g.
SYNDICATOR_FIND_A_TENDER_KEY_NOTTINGHAMSHIRE_POLICE (`syndicator.channel.registry`); a buyer
whose notices this product publishes (`fts_mode = "publish"`) and has no key stops start-up
with that variable's name. A buyer in adopt mode needs none: nothing is sent in its name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import ClassVar

from pydantic import Field, SecretStr

from syndicator.channel.base import AuthError
from syndicator.channel.http import HttpSettings
from syndicator.config.buyers import Organisation
from syndicator.config.files import Duration


def publishes(buyer: Organisation) -> bool:
    """Whether this product sends the buyer's notices (and so needs its key)."""
    return buyer.fts_mode == "publish"


class FindATenderSettings(HttpSettings):
    """`[profiles.<profile>.find-a-tender]`: both APIs, the buyers' keys, adopt mode's patience."""

    per_buyer: ClassVar[Mapping[str, Callable[[Organisation], bool]]] = {"key": publishes}

    # `base_url` (from HttpSettings) is the eSender API's root, e.g. https://www.find-tender.service.gov.uk
    public_url: str = Field(pattern=r"^https?://\S+$")  # the public OCDS read API's root (no key)
    key: dict[str, SecretStr] = Field(default_factory=dict)  # buyer id -> its CDP API key
    # Our provisional OCID prefix: Find a Tender assigns the procurement's own OCID
    # (ocds-h6vhtk-...) when it publishes the first notice (docs/channels/find-a-tender.md).
    ocid_prefix: str = Field(default="ocds-emsx01", pattern=r"^ocds-[a-z0-9]{6}$")
    # Adopt mode: how long to keep looking for the buyer's own notice before failing, how far
    # before our dispatch time its publication may lie, and how many pages of 100 one look reads.
    adopt_within: Duration = timedelta(days=3)
    adopt_lookback: Duration = timedelta(days=30)
    adopt_pages: int = Field(default=20, ge=1, le=500)


def key_for(settings: FindATenderSettings, buyer: str) -> str:
    """The buyer's API key; a buyer without one was let through configuration by mistake."""
    found = settings.key.get(buyer)
    if found is None or not found.get_secret_value():
        variable = f"SYNDICATOR_FIND_A_TENDER_KEY_{buyer}".upper().replace("-", "_")
        raise AuthError(f"find-a-tender has no API key for buyer {buyer!r}: set {variable}")
    return found.get_secret_value()

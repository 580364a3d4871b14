"""The explicit table from destination names to adapter classes, and building adapters from
the active profile with secrets from the environment.

A destination is a channel family, optionally with a part after a colon that the adapter
interprets: `trade-press:construction-press` is the `trade-press` adapter, publication
`construction-press`. The core imports concrete channels only through this table.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from syndicator.channel.base import Channel
from syndicator.config.files import ConfigError, validate
from syndicator.config.settings import Config
from syndicator.domain.notices import Carrier

M = TypeVar("M", bound=BaseModel)

ADAPTERS: Mapping[str, str] = {
    "crystal": "channels.crystal:CrystalChannel",
    "bluelight": "channels.bluelight:BluelightChannel",
    "source-east-midlands": "channels.source_east_midlands:SourceEastMidlandsChannel",
    "ted": "channels.ted.channel:TedChannel",
    "trade-press": "channels.trade_press:TradePressChannel",
    "find-a-tender": "channels.find_a_tender:FindATenderChannel",
    "contracts-finder": "channels.contracts_finder:ContractsFinderChannel",
}


def family(destination: str) -> str:
    """'trade-press:construction-press' -> 'trade-press'."""
    return destination.split(":", 1)[0]


def channel_class(name: str) -> type[Channel]:
    """The adapter class of a channel family."""
    try:
        target = ADAPTERS[family(name)]
    except KeyError:
        raise KeyError(f"no adapter is registered for {name!r}") from None
    module_name, class_name = target.split(":")
    cls: type[Channel] = getattr(importlib.import_module(module_name), class_name)
    return cls


def title(destination: str) -> str:
    """How people name a destination: 'Tenders Electronic Daily (TED)', 'Trade press: x'."""
    try:
        name = channel_class(destination).title
    except KeyError:  # a destination no adapter serves (an old row): its own name
        return destination
    return f"{name}: {destination.split(':', 1)[1]}" if ":" in destination else name


def declared(destination: str) -> Carrier:
    """What a destination's channel declares (notice kinds, capabilities), without configuring it."""
    cls = channel_class(destination)
    capabilities = cls.capabilities
    return Carrier(cls.notices, capabilities.stops_unpublished, capabilities.award_after_signature)


def names(destination: str, key: str) -> tuple[str | None, str | None]:
    """What the destination's channel calls a first send with `key` (see `Channel.names`)."""
    return channel_class(destination).names(key)


def env_name(channel: str, field: str) -> str:
    """SYNDICATOR_<CHANNEL>_<FIELD>: where a channel's secret comes from."""
    return f"SYNDICATOR_{channel}_{field}".upper().replace("-", "_")


def section_settings(
    config: Config, name: str, model: type[M], environ: Mapping[str, str] | None = None
) -> M:
    """The active profile's `[profiles.<profile>.<name>]` section validated as `model`, each
    field overridable from SYNDICATOR_<NAME>_<FIELD> (how secrets arrive); a per-buyer field
    (`model.per_buyer`) from SYNDICATOR_<NAME>_<FIELD>_<BUYER ID> for each buyer."""
    environ = os.environ if environ is None else environ
    key = f"profiles.{config.profile}.{name}"
    sections = config.channels.profile_sections(config.profile)
    if name not in sections:
        raise ConfigError("channels.toml", key, "missing: the active profile needs this section")
    values = dict(sections[name])
    per_buyer = getattr(model, "per_buyer", {})
    for field_name in model.model_fields:
        from_env = environ.get(env_name(name, field_name))
        if from_env is not None and field_name not in per_buyer:
            values[field_name] = from_env
    for field_name, needed in per_buyer.items():
        table = dict(values.get(field_name) or {})
        for buyer_id, buyer in config.buyers.by_id.items():
            variable = env_name(name, f"{field_name}_{buyer_id}")
            table[buyer_id] = environ.get(variable, table.get(buyer_id))
            if table[buyer_id] is None:
                del table[buyer_id]
                if needed(buyer):
                    hint = f"is required for buyer {buyer_id}: set {variable} in the environment"
                    raise ConfigError("channels.toml", f"{key}.{field_name}.{buyer_id}", hint)
        values[field_name] = table
    try:
        return validate(model, values, "channels.toml", key)
    except ConfigError as exc:
        field_name = exc.key.rsplit(".", 1)[-1]
        if field_name in model.model_fields and exc.problem == "is required":
            hint = f"is required: set {env_name(name, field_name)} in the environment (or the profile)"
            raise ConfigError(exc.file, exc.key, hint) from None
        raise


def build_channel(
    config: Config, channel: str, environ: Mapping[str, str] | None = None, **options: Any
) -> Channel:
    """One adapter configured from the active profile; a bad section raises ConfigError."""
    cls = channel_class(channel)
    return cls(section_settings(config, channel, cls.settings_model, environ), **options)


def build_channels(
    config: Config, environ: Mapping[str, str] | None = None, **options: Any
) -> dict[str, Channel]:
    """Every registered adapter, configured; the start-up check of the channel profile."""
    return {name: build_channel(config, name, environ, **options) for name in ADAPTERS}

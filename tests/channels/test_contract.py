"""Registry-wide checks; what each adapter keeps is the mixin in `tests/channels/contract.py`,
instantiated by every channel's own test module (and checked here to be)."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import channels
from syndicator.channel.base import Channel
from syndicator.channel.http import HttpChannel
from syndicator.channel.registry import ADAPTERS, channel_class
from tests.channels.contract import ChannelContract, HttpChannelContract


def _modules() -> set[str]:
    """Every module (or package) directly under channels/."""
    return {info.name for info in pkgutil.iter_modules(channels.__path__) if not info.name.startswith("_")}


def test_every_channel_module_is_registered() -> None:
    registered = {
        target.split(":")[0].removeprefix("channels.").split(".")[0] for target in ADAPTERS.values()
    }
    helpers = {name for name in _modules() if not _defines_channel(name)}
    assert _modules() - helpers == registered, (
        "a channel module is missing from syndicator.channel.registry.ADAPTERS"
    )


def _defines_channel(module_name: str) -> bool:
    module = importlib.import_module(f"channels.{module_name}")
    searched = [module]
    if hasattr(module, "__path__"):  # a package (channels/ted/): the adapter is in a submodule
        searched += [
            importlib.import_module(f"{module.__name__}.{info.name}")
            for info in pkgutil.iter_modules(module.__path__)
        ]
    return any(
        isinstance(value, type)
        and issubclass(value, Channel)
        and (value.__module__ == module.__name__ or value.__module__.startswith(module.__name__ + "."))
        for found in searched
        for value in vars(found).values()
    )


def test_every_channel_keeps_the_contract() -> None:
    """Each registered family has a test class built on the contract mixin (HTTP ones on the
    HTTP mixin), in its own test module."""
    import tests.channels as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("test_"):
            importlib.import_module(f"tests.channels.{info.name}")
    covered: dict[str, type] = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith("tests.channels.test_"):
            continue
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, ChannelContract) and hasattr(value, "family"):
                covered[value.family] = value
    for family in ADAPTERS:
        assert family in covered, f"no test class keeps the contract for {family}"
        if issubclass(channel_class(family), HttpChannel):
            assert issubclass(covered[family], HttpChannelContract), family

"""The explicit list of HTTP channel simulators the sandbox serves."""

from __future__ import annotations

from syndicator.sandbox.base import Simulator
from syndicator.sandbox.config import SandboxConfig
from syndicator.sandbox.ledger import Ledger


def http_simulators(config: SandboxConfig, ledger: Ledger) -> list[Simulator]:
    """One simulator per HTTP channel."""
    from syndicator.sandbox.bluelight import BluelightSimulator
    from syndicator.sandbox.contracts_finder import ContractsFinderSimulator
    from syndicator.sandbox.crystal import CrystalSimulator
    from syndicator.sandbox.find_a_tender import FindATenderSimulator
    from syndicator.sandbox.sem import SemSimulator
    from syndicator.sandbox.ted import TedSimulator

    return [
        CrystalSimulator(config, ledger),
        BluelightSimulator(config, ledger),
        SemSimulator(config, ledger),
        TedSimulator(config, ledger),
        FindATenderSimulator(config, ledger),
        ContractsFinderSimulator(config, ledger),
    ]

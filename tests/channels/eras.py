"""The shipped examples moved to an earlier procurement regime, for the channels that carry only
procurements commenced under it: TED (the EU directives, before 2021-01-01) and Contracts
Finder (the PCR 2015, 2021-01-01 to 2025-02-23). The shipped examples are Procurement Act
2023 procurements but for `ted-legacy` and `pcr-legacy`; a module overrides the `examples`
fixture with `ojeu_examples` or `pcr_examples` to test its channel on all of them.

A procedure only the Procurement Act 2023 has (competitive flexible) becomes the competitive
procedure with negotiation, its nearest earlier procedure."""

from __future__ import annotations

from datetime import date

from syndicator.config.settings import Config
from syndicator.domain.tender import Procedure, Tender
from tests.conftest import load_examples

OJEU_COMMENCED = date(2020, 11, 16)  # as examples/ted-legacy.json
# The examples at or above the EU thresholds of 2020 once commenced then: the ones TED carries.
ROUTED_TO_TED = {"anpr-cameras", "it-managed-service", "pcr-legacy", "ted-legacy"}
PCR_COMMENCED = date(2023, 5, 2)  # as examples/pcr-legacy.json


def commenced(tender: Tender, on: date) -> Tender:
    """The same tender, its procurement commenced `on`."""
    procedure = tender.procedure
    if procedure is Procedure.COMPETITIVE_FLEXIBLE:
        procedure = Procedure.COMPETITIVE_NEGOTIATED
    return tender.model_copy(update={"procurement_commenced_on": on, "procedure": procedure})


def as_ojeu(tender: Tender) -> Tender:
    """Commenced under the EU directives (advertised on TED)."""
    return commenced(tender, OJEU_COMMENCED)


def as_pcr(tender: Tender) -> Tender:
    """Commenced under the PCR 2015 as amended for the UK (Contracts Finder)."""
    return commenced(tender, PCR_COMMENCED)


def ojeu_examples(config: Config) -> dict[str, Tender]:
    """Every shipped example, commenced under the EU directives."""
    return {name: as_ojeu(tender) for name, tender in load_examples(config).items()}


def pcr_examples(config: Config) -> dict[str, Tender]:
    """Every shipped example, commenced under the PCR 2015."""
    return {name: as_pcr(tender) for name, tender in load_examples(config).items()}

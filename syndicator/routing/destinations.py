"""Which destinations a tender needs, and why: the policy in `config/routing.toml` applied to a
validated tender. Pure: no I/O once the policy is loaded.

    tender --commenced on--> regime (ojeu | pcr-uk | pa2023): the law, and its primary destination
           --threshold in force when it commenced--> primary (TED or Find a Tender); under the
             Procurement Act also every advertised notifiable below-threshold contract
           --local rules (net value, procedure)--> bluelight, crystal, source-east-midlands
           --PCR regimes, dated value limit--> contracts-finder
           --main CPV prefix + net value--> trade-press:<publication>
    every destination but the primary waits for the primary's notice (`after`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC
from decimal import Decimal
from typing import Any

from syndicator.domain.tender import Tender
from syndicator.routing.policy import TRADE_PRESS, Regime, RoutingPolicy, money
from syndicator.routing.thresholds import Basis, Comparison, Thresholds


@dataclass
class RouteEntry:
    """One destination of a route, with the sentences that justify it."""

    destination: str
    reasons: list[str] = field(default_factory=list)
    after: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {"destination": self.destination, "reasons": self.reasons, "after": self.after}


@dataclass
class Route:
    """Where a tender goes, or why it goes nowhere, under which law, and warnings for a person."""

    reference: str
    buyer: str
    destinations: list[RouteEntry]
    not_advertised: str | None
    warnings: list[str]
    primary: str | None = None  # the official journal every other destination follows
    regime: str | None = None  # ojeu | pcr-uk | pa2023
    law: str = ""  # which law applies and why, in a sentence
    above_threshold: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON form printed by `syndicator route --json` (and stored with each version)."""
        return {
            "reference": self.reference,
            "buyer": self.buyer,
            "regime": self.regime,
            "law": self.law,
            "above_threshold": self.above_threshold,
            "primary": self.primary,
            "destinations": [entry.as_dict() for entry in self.destinations],
            "not_advertised": self.not_advertised,
            "warnings": self.warnings,
        }

    def names(self) -> list[str]:
        """The destination names in route order."""
        return [entry.destination for entry in self.destinations]


def _threshold_text(outcome: Comparison) -> tuple[str, str]:
    basis = "net of VAT" if outcome.basis is Basis.NET else "including VAT"
    period = outcome.period
    span = f"from {period.start}" + (f" to {period.end}" if period.end else "")
    return f"{money(outcome.compared)} {basis}", f"{money(outcome.threshold)} (in force {span})"


def _primary_entry(
    tender: Tender, regime: Regime, outcome: Comparison | None, advertised: bool, vat_rate: Decimal
) -> RouteEntry | None:
    if tender.procedure in regime.primary_excluded_procedures:
        return None
    kind = tender.contract_type.value
    if outcome is not None and outcome.reached:
        value, limit = _threshold_text(outcome)
        return RouteEntry(
            regime.primary,
            [
                f"value {value} is at or above the threshold of {limit} for {kind} contracts of "
                f"sub-central authorities: under the {regime.law} the notice goes on {regime.primary_title}"
            ],
        )
    floor = regime.notifiable_at_least_gross
    gross = tender.estimated_value.gross(vat_rate)
    if floor is not None and advertised and gross >= floor:
        return RouteEntry(
            regime.primary,
            [
                f"value {money(gross)} including VAT is below the threshold but at least {money(floor)}: "
                f"an advertised notifiable below-threshold contract, published on {regime.primary_title} "
                "(Procurement Act 2023 s.86)"
            ],
        )
    return None


def time_limit_warnings(tender: Tender, regime: Regime, above_threshold: bool) -> list[str]:
    """The regime's minimum tender periods, as warnings for a person (above the threshold)."""
    if not above_threshold or tender.submission_deadline is None:
        return []
    days = (tender.submission_deadline.astimezone(UTC).date() - tender.published_on).days
    found = []
    for limit in regime.time_limits:
        if limit.procedure is not tender.procedure:
            continue
        if limit.days is None:
            found.append(
                f"the tender period is {days} days; the minimum for a {tender.procedure.value} procedure "
                f"under the {regime.law} is not confirmed here: check {limit.provision}"
            )
        elif days < limit.days:
            found.append(
                f"the tender period is {days} days; an above-threshold {tender.procedure.value} "
                f"procedure under the {regime.law} allows at least {limit.days} days ({limit.provision})"
            )
    return found


def short_tender_period(tender: Tender, policy: RoutingPolicy, thresholds: Thresholds) -> str | None:
    """Why the tender period is shorter than the law's minimum (with a figure), or None."""
    plan = route(tender, policy, thresholds)
    regime = policy.regime_for(tender.commenced_on)
    warnings = time_limit_warnings(tender, regime, bool(plan.above_threshold))
    confirmed = [w for w in warnings if "not confirmed" not in w]
    return confirmed[0] if confirmed else None


def route(tender: Tender, policy: RoutingPolicy, thresholds: Thresholds) -> Route:
    """Apply the policy to a validated tender."""
    net = tender.estimated_value.net(policy.vat_rate)
    value_text = f"net value {money(net)}"
    commenced = tender.commenced_on
    regime = policy.regime_for(commenced)
    outcome = thresholds.compare(tender.estimated_value, tender.contract_type, commenced, policy.vat_rate)
    above = bool(outcome and outcome.reached)
    entries: dict[str, RouteEntry] = {}
    refusals: list[str] = []
    for rule in policy.rule:
        if not rule.applies_to(tender.procedure):
            continue
        if not rule.passes(net):
            refusals.append(f"{value_text} {rule.fail_text()} ({rule.name})")
            continue
        for name in rule.destinations:
            entry = entries.setdefault(name, RouteEntry(name))
            entry.reasons.append(f"{value_text} {rule.limit_text()}: {rule.why} ({rule.name})")
    primary = _primary_entry(tender, regime, outcome, bool(entries), policy.vat_rate)
    if primary is not None:
        entries = {primary.destination: primary, **entries}
    cf = policy.contracts_finder
    limit = cf.limit_on(commenced) if cf else None
    if cf and limit and regime.name in cf.regimes and tender.procedure not in cf.excluded_procedures:
        compared = net if limit.basis is Basis.NET else tender.estimated_value.gross(policy.vat_rate)
        basis = "net of VAT" if limit.basis is Basis.NET else "including VAT"
        if compared >= limit.at_least:
            entries[cf.destination] = RouteEntry(
                cf.destination,
                [f"value {money(compared)} {basis} is at least {money(limit.at_least)}: {cf.why}"],
            )
    main_cpv = tender.main_cpv()
    for pub in policy.trade_press:
        prefix = next((p for p in pub.cpv_prefixes if main_cpv.startswith(p)), None)
        if prefix is None or not pub.applies_to(tender.procedure) or not pub.passes(net):
            continue
        name = f"{TRADE_PRESS}:{pub.publication}"
        entries[name] = RouteEntry(
            name,
            [
                f"main CPV code {main_cpv} matches the {pub.title} prefix {prefix}, and the "
                f"{value_text} {pub.limit_text()}"
            ],
        )
    if primary is not None:
        for entry in entries.values():
            if entry.destination != primary.destination:
                entry.after = primary.destination
                entry.reasons.append(regime.gate_reason)
    not_advertised = None
    if not entries:
        not_advertised = "; ".join(refusals) or f"no rule applies to a {tender.procedure.value} procedure"
    law = f"{regime.law}: the procurement {regime.span()} (it commenced on {commenced})" + (
        ", and its value is at or above the threshold then in force" if above else ""
    )
    return Route(
        tender.reference,
        tender.buyer,
        list(entries.values()),
        not_advertised,
        time_limit_warnings(tender, regime, above),
        primary.destination if primary else None,
        regime.name,
        law,
        above,
    )


def requirements(tender: Tender, plan: Route, policy: RoutingPolicy) -> list[tuple[str, str]]:
    """What the regime and the destinations on the route need from the record beyond the record
    contract: (field, problem) pairs, reported by validation like any other problem."""
    problems: list[tuple[str, str]] = []
    regime = policy.regime_for(tender.commenced_on)
    if tender.procedure not in regime.procedures:
        allowed = ", ".join(p.value for p in regime.procedures)
        problems.append(
            (
                "procedure",
                f"{tender.procedure.value!r} is not a procedure under the {regime.law} (procurements "
                f"{regime.span()}); allowed: {allowed}",
            )
        )
    if plan.primary == regime.primary:
        for name in regime.requires:
            if getattr(tender, name, None) in (None, "", []):
                problems.append(
                    (
                        name,
                        f"is required because the tender goes to {regime.primary_title}: its notice must "
                        "give the address of the procurement documents and of tender submission",
                    )
                )
    return problems

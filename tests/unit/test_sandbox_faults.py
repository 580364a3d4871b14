"""Fault injection bookkeeping: faults are consumed one per request, and listed as runs."""

from __future__ import annotations

import pytest

from syndicator.sandbox.faults import Fault, Faults


def test_faults_are_consumed_in_order_and_summarised_as_runs() -> None:
    faults = Faults()
    faults.add("crystal", Fault("error-503"), 2)
    faults.add("crystal", Fault("reject-422"), 100)
    assert faults.pending() == {
        "crystal": [
            {"mode": "error-503", "retry_after": 2, "delay": 35.0, "count": 2},
            {"mode": "reject-422", "retry_after": 2, "delay": 35.0, "count": 100},
        ]
    }
    assert [faults.take("crystal").mode for _ in range(3)] == ["error-503", "error-503", "reject-422"]
    assert faults.take("bluelight") is None
    faults.clear("crystal")
    assert faults.pending() == {}


def test_unknown_modes_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown mode"):
        Faults().add("crystal", Fault("explode"), 1)

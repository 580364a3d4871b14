"""Property: whatever JSON arrives, the validator answers with records or named problems,
never an exception."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicator.intake.records import read_bytes
from tests.unit.records_factory import BASE
from tests.unit.test_validation import CONTEXT

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=25,
)

# Records that look like tenders: every field present, each value drawn from anything.
near_records = st.fixed_dictionaries({name: json_values for name in BASE})
# The valid record with one field replaced by anything.
mutated = st.sampled_from(sorted(BASE)).flatmap(
    lambda name: json_values.map(lambda value: {**BASE, name: value})
)


def check(document: object) -> None:
    parsed, problems = read_bytes(json.dumps(document).encode(), CONTEXT)
    assert parsed or problems
    for problem in problems:
        assert problem.field and problem.message and problem.record


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_arbitrary_json_never_crashes(document: object) -> None:
    check(document)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(near_records | mutated | st.lists(mutated, min_size=1, max_size=3))
def test_tender_shaped_json_never_crashes(document: object) -> None:
    check(document)


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_crash(raw: bytes) -> None:
    parsed, problems = read_bytes(raw, CONTEXT)
    assert parsed or problems

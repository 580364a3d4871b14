"""The Procurement Act 2023 standstill (s.51): eight working days beginning with the day the
contract award notice is published; weekends and England and Wales bank holidays do not count."""

from __future__ import annotations

from datetime import date

import pytest

from syndicator.domain.standstill import is_working_day, may_enter_into, standstill_ends


@pytest.mark.parametrize(
    ("published", "last_day", "first_signing_day"),
    [
        # an ordinary fortnight: Monday to the next Wednesday
        (date(2026, 11, 2), date(2026, 11, 11), date(2026, 11, 12)),
        # Christmas: 25 Dec (Fri), Boxing Day on Saturday observed Monday 28 Dec
        (date(2026, 12, 16), date(2026, 12, 29), date(2026, 12, 30)),
        # published on a Saturday: counting starts on Monday; New Year's Day skipped
        (date(2026, 12, 19), date(2027, 1, 4), date(2027, 1, 5)),
        # Easter 2027: Good Friday 26 March and Easter Monday 29 March
        (date(2027, 3, 25), date(2027, 4, 7), date(2027, 4, 8)),
        # the August bank holiday 2027 (Monday 30 August)
        (date(2027, 8, 27), date(2027, 9, 8), date(2027, 9, 9)),
        # published on a bank holiday (Monday 31 August 2026): day 1 is Tuesday
        (date(2026, 8, 31), date(2026, 9, 10), date(2026, 9, 11)),
        # ends on a Friday: the contract may be entered into on Monday
        (date(2026, 11, 11), date(2026, 11, 20), date(2026, 11, 23)),
    ],
)
def test_the_standstill_counts_working_days_from_the_publication_day(
    published: date, last_day: date, first_signing_day: date
) -> None:
    assert standstill_ends(published) == last_day
    assert may_enter_into(published) == first_signing_day


def test_working_days_follow_england_and_wales_bank_holidays() -> None:
    assert not is_working_day(date(2027, 12, 27))  # Christmas Day (Saturday) observed Monday
    assert not is_working_day(date(2027, 12, 28))  # Boxing Day (Sunday) observed Tuesday
    assert is_working_day(date(2027, 12, 29))
    assert not is_working_day(date(2026, 5, 4))  # Early May bank holiday
    assert is_working_day(date(2027, 1, 4))
    assert is_working_day(date(2026, 3, 17))  # St Patrick's Day is not an England and Wales holiday

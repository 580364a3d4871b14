"""Working days in England and Wales, and the Procurement Act 2023 standstill.

s.51: the standstill period is "eight working days beginning with the day on which the contract
award notice is published"; a working day is not a Saturday, a Sunday, or a bank holiday in
England and Wales (s.123, Banking and Financial Dealings Act 1971). A notice published on a
working day counts that day as day 1; one published on a weekend or bank holiday starts
counting on the next working day. The contract may be entered into from the working day after
the last day (gov.uk guidance "Contract Award Notices and Standstill", paras 1 and 4).

Bank holidays come from the maintained `holidays` package (England: the same dates as Wales),
including substitute days when Christmas or Boxing Day fall at a weekend.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import holidays

STANDSTILL_WORKING_DAYS = 8


@cache
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=[year]))


def is_working_day(day: date) -> bool:
    """Not a Saturday, a Sunday or a bank holiday in England and Wales."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def next_working_day(day: date) -> date:
    """The first working day after `day`."""
    following = day + timedelta(days=1)
    while not is_working_day(following):
        following += timedelta(days=1)
    return following


def standstill_ends(published_on: date, working_days: int = STANDSTILL_WORKING_DAYS) -> date:
    """The last day of the standstill that begins with the day the award notice is published."""
    day = published_on if is_working_day(published_on) else next_working_day(published_on)
    for _ in range(working_days - 1):
        day = next_working_day(day)
    return day


def may_enter_into(published_on: date) -> date:
    """The first day the contract may be entered into."""
    return next_working_day(standstill_ends(published_on))

"""Deliveries per destination and state, from the deltas the triggers of migration 0005 append
to `delivery_counts` in the transaction of each change: the overview reads a table of a few
dozen rows instead of counting millions, and the sweeper folds the deltas together."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select, text

from syndicator.store.models import DeliveryCountRow
from syndicator.store.transitions import Executor, _dialect

C = DeliveryCountRow

# PostgreSQL: exactly the rows this statement deleted are summed and put back, so a delta a
# concurrent transaction commits meanwhile is neither lost nor counted twice.
_FOLD_POSTGRES = text(
    "WITH gone AS (DELETE FROM delivery_counts RETURNING destination, state, n) "
    "INSERT INTO delivery_counts (destination, state, n) "
    "SELECT destination, state, sum(n) FROM gone GROUP BY destination, state HAVING sum(n) <> 0"
)


def by_destination(session: Executor) -> dict[str, dict[str, int]]:
    """destination -> state -> how many deliveries (states with none left out)."""
    query = select(C.destination, C.state, func.sum(C.n)).group_by(C.destination, C.state)
    found: dict[str, dict[str, int]] = {}
    for destination, state, n in session.execute(query):
        if n:
            found.setdefault(destination, {})[state] = int(n)
    return found


def destinations(session: Executor) -> list[str]:
    """Every destination that has deliveries (or had: a folded zero is left out)."""
    return list(session.scalars(select(C.destination).distinct()))


def compact(session: Executor) -> None:
    """Fold the deltas into one row per (destination, state)."""
    if _dialect(session) == "postgresql":
        session.execute(_FOLD_POSTGRES)
        return
    # SQLite has one writer at a time: nothing can change between these statements.
    sums = session.execute(
        select(C.destination, C.state, func.sum(C.n)).group_by(C.destination, C.state)
    ).all()
    session.execute(delete(C))
    rows = [{"destination": d, "state": s, "n": n} for d, s, n in sums if n]
    if rows:
        session.execute(insert(C), rows)

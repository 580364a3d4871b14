"""What any input may hold: one set of sizes and character rules shared by the API, the dashboard's
forms, the CLI and the use-cases in `syndicator.ops`, so that no entry point accepts what another
refuses, and nothing reaches the database that a column cannot store.

    text fields   no control characters (U+0000-U+001F, U+007F-U+009F); free text such as a
                  description or a reason may also hold tabs and newlines
    sizes         the lengths of the columns they are stored in (syndicator/store/models.py)
    numbers       ids fit PostgreSQL's bigint; pages stay far below any offset overflow
"""

from __future__ import annotations

import re

# Column sizes (syndicator/store/models.py): DeliveryRow.remote_id String(200), remote_url String(2000).
REASON = 2000
REMOTE_ID = 200
URL = 2000
FILTER_TEXT = 200  # a search term, buyer, destination, actor or action in a list filter
REFERENCE_PATH = 200  # an id, a reference (64) or buyer/reference in a URL path
SINCE_TEXT = 40  # "2h", "3d", "2026-11-26" or "2026-11-26T09:00:00+00:00"

MAX_ID = 2**63 - 1  # PostgreSQL bigint (and SQLite's INTEGER): a larger id cannot exist
MAX_PAGE = 100_000
MAX_PAGE_SIZE = 200

# Request bodies: the tender intake takes up to this much JSON (as `syndicator validate` files);
# a dashboard form holds a handful of short fields.
MAX_BODY_BYTES = 20 * 1024 * 1024
MAX_FORM_BYTES = 64 * 1024

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_EXCEPT_LAYOUT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# The same rules as JSON Schema patterns (ECMA-262), for the API description.
NO_CONTROL_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
NO_CONTROL_EXCEPT_LAYOUT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"


def control_character(text: str, *, layout: bool = False) -> str | None:
    """The first control character in `text` as 'U+0000', or None; `layout` allows tabs and newlines."""
    found = (_CONTROL_EXCEPT_LAYOUT if layout else _CONTROL).search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def text_problem(text: str, *, limit: int, layout: bool = False) -> str | None:
    """Why `text` cannot be stored (too long, or a control character), or None."""
    if len(text) > limit:
        return f"is {len(text)} characters long; at most {limit} are allowed"
    found = control_character(text, layout=layout)
    return f"contains the control character {found}" if found else None

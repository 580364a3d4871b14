"""The eForms change notice: a complete subtype-16 notice of the new tender version, with a
new notice id (BT-701, from this delivery's key), the same procedure id (BT-04), and
efac:Changes naming the notice it changes (eForms SDK 1.15 `change-notice.adoc`; official
examples `change-cn_24_open_dates.xml` and `change-cn_24_void.xml`):

    efac:Changes
     +-- efbc:ChangedNoticeIdentifier   BT-758  the changed notice's businessId `{uuid}-{version}`
     +-- efac:Change * n                one per changed section (none for `cancel`)
     |    +-- efbc:ChangeDescription    BT-141  what changed, field by field
     |    +-- efac:ChangedSection       BT-13716  LOT-nnnn for a lot's fields, else PROCEDURE
     +-- efac:ChangeReason
          +-- cbc:ReasonCode            BT-140  `change-corrig-justification`: cor-buy (a
          |                                     correction), update-add (a change), cancel
          +-- efbc:ReasonDescription    BT-762  the reason a person gave

The same form with BT-140 `cancel` and no efac:Change withdraws a published notice while every
lot's deadline is ahead (after one, TED refuses it: BR-BT-00005-0151).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from lxml import etree

from channels.ted.contract import build_notice
from channels.ted.identifiers import split_business_id
from channels.ted.sections import lot_id
from channels.ted.ubl import EFAC, EFBC, LANGUAGE, code, prose
from syndicator.channel.base import RenderContext, RenderError
from syndicator.domain.notices import FieldChange, Notice, NoticeRef

CORRECTION = "cor-buy"  # Buyer correction: the advert stated something wrongly
UPDATE = "update-add"  # Information updated: the procurement itself changed
CANCEL = "cancel"  # Notice cancelled
PROCEDURE = "PROCEDURE"  # BT-13716 for what is not one lot's (BR-BT-13716-0051 allows it)
MAX_TEXT = 6000  # BT-141 and BT-762 (BT-141_a_-notice_length, BT-762-notice_length)

_LOT = re.compile(r"lots\[number=(\d+)\]")


def build_change(notice: Notice, context: RenderContext) -> bytes:
    """A change notice of `notice.tender` changing the notice TED publishes now."""
    reason = CORRECTION if notice.correction else UPDATE
    changes = _changes(changed_notice(context), reason, notice.reason, sections(notice.changes))
    return build_notice(notice.tender, context, changes)


def build_cancel(notice: Notice, context: RenderContext) -> bytes:
    """The change notice that cancels the published notice (BT-140 `cancel`, no efac:Change)."""
    return build_notice(notice.tender, context, _changes(changed_notice(context), CANCEL, notice.reason, []))


def changed_notice(context: RenderContext) -> str:
    """BT-758: the businessId of the notice TED publishes for this procurement now (the latest
    this destination carries; the planner sends a change only once it is published)."""
    previous: NoticeRef | None = context.previous
    if previous is None:
        raise RenderError("a change notice names the notice it changes; TED carries none of this tender")
    if not previous.live:
        raise RenderError(
            f"a change notice changes a published notice; the {previous.kind.value} notice "
            f"{previous.remote_id or '(no businessId)'} is {previous.state}"
        )
    try:
        split_business_id(previous.remote_id or "")
    except ValueError:
        raise RenderError(
            f"the {previous.kind.value} notice TED published has no businessId ({previous.remote_id!r})"
        ) from None
    assert previous.remote_id is not None
    return previous.remote_id


def section(change: FieldChange) -> str:
    """BT-13716: the section of the changed notice a field belongs to. A lot's fields, and a
    lot removed, are that lot's section; an added lot did not exist in the changed notice, so
    it is a change of the procedure, as is every field outside the lots."""
    found = _LOT.match(change.path)
    if found is None or (change.path == found.group(0) and change.before is None):
        return PROCEDURE
    return lot_id(int(found.group(1)))


def sections(changes: Iterable[FieldChange]) -> list[tuple[str, str]]:
    """(section, BT-141 description) for each changed section: the procedure first, then the
    lots in number order; each description lists that section's changes in record order."""
    grouped: dict[str, list[str]] = {}
    for change in changes:
        grouped.setdefault(section(change), []).append(change.sentence())
    order = sorted(grouped, key=lambda name: (name != PROCEDURE, name))
    return [(name, "; ".join(grouped[name])) for name in order]


def _changes(
    changed: str, reason_code: str, reason: str | None, described: Sequence[tuple[str, str]]
) -> etree._Element:
    """efac:Changes in the XSD's order: BT-758, each efac:Change, then the reason."""
    elements = [EFBC.ChangedNoticeIdentifier(changed)]  # BT-758
    for name, description in described:
        text = prose(description)
        if len(text) > MAX_TEXT:
            raise RenderError(
                f"the description of the changes to {name} is {len(text)} characters; TED "
                f"accepts at most {MAX_TEXT} (BT-141)"
            )
        elements.append(
            EFAC.Change(
                EFBC.ChangeDescription(text, languageID=LANGUAGE),  # BT-141
                EFAC.ChangedSection(EFBC.ChangedSectionIdentifier(name)),  # BT-13716
            )
        )
    why = [code("ReasonCode", "change-corrig-justification", reason_code)]  # BT-140
    stated = prose(reason or "")
    if len(stated) > MAX_TEXT:
        raise RenderError(f"the reason is {len(stated)} characters; TED accepts at most {MAX_TEXT} (BT-762)")
    if stated:
        why.append(EFBC.ReasonDescription(stated, languageID=LANGUAGE))  # BT-762
    elements.append(EFAC.ChangeReason(*why))
    return EFAC.Changes(*elements)

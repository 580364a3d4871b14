"""What the sandbox's channels received: one entry per distinct notice (channel + key), so a
test or a trainer can see that nothing was published twice, and a copy of every notice on
disk for a person to open.

`times_received` counts every request or message that carried the notice, including repeats
that the channel answered by de-duplication; `copies` counts the adverts that actually exist
(1 on a de-duplicating channel, however often it was sent; one per e-mail on trade press).
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RECEIVED = "received"
PUBLISHED = "published"
REJECTED = "rejected"

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class Entry:
    """One distinct notice on one channel."""

    channel: str
    key: str
    remote_id: str
    tender_reference: str | None
    body: bytes
    extension: str
    first_received_at: float
    publish_at: float
    url: str | None = None
    times_received: int = 1
    copies: int = 1
    rejected: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    # Worked out by the simulator from what it received, as the real portal would: the kind of
    # notice (contract, change, cancellation, award, contract-details) and the tender version it
    # carries (None where the wire format cannot tell, e.g. an eForms notice).
    notice: str = "contract"
    version: int | None = None

    def status(self, now: float | None = None) -> str:
        """received -> published after the channel's delay; or rejected."""
        if self.rejected is not None:
            return REJECTED
        return PUBLISHED if (now or time.time()) >= self.publish_at else RECEIVED

    def summary(self) -> dict[str, Any]:
        """The `/_sandbox/received` form."""
        status = self.status()
        return {
            "channel": self.channel,
            "key": self.key,
            "remote_id": self.remote_id,
            "tender_reference": self.tender_reference,
            "notice": self.notice,
            "version": self.version,
            "times_received": self.times_received,
            "copies": self.copies,
            "status": status,
            "url": self.url if status == PUBLISHED else None,
            "rejected": self.rejected,
        }


class Ledger:
    """Thread-safe store of received notices, mirrored to a folder when one is given."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], Entry] = {}
        self._by_remote: dict[tuple[str, str], Entry] = {}

    def find(self, channel: str, key: str) -> Entry | None:
        """The notice a channel holds under our key, if any."""
        with self._lock:
            return self._entries.get((channel, key))

    def by_remote_id(self, channel: str, remote_id: str) -> Entry | None:
        """The notice a channel holds under its own id, if any: the latest one, where the channel
        keeps its id across a notice's updates and withdrawal (Crystal, Bluelight)."""
        with self._lock:
            return self._by_remote.get((channel, remote_id))

    def add(self, entry: Entry) -> tuple[Entry, bool]:
        """Record a notice; a repeat of a known key counts as another receipt of it."""
        with self._lock:
            existing = self._entries.get((entry.channel, entry.key))
            if existing is not None:
                existing.times_received += 1
                found, new = existing, False
            else:
                self._entries[(entry.channel, entry.key)] = entry
                self._by_remote[(entry.channel, entry.remote_id)] = entry
                found, new = entry, True
        self._write(found)
        return found, new

    def repeat(self, entry: Entry, *, copy: bool = False) -> None:
        """Count another receipt of a known notice (`copy`: it was published again)."""
        with self._lock:
            entry.times_received += 1
            if copy:
                entry.copies += 1
        self._write(entry)

    def update(self, entry: Entry, **changes: Any) -> None:
        """Change an entry (e.g. reject it) and rewrite its file."""
        with self._lock:
            for name, value in changes.items():
                setattr(entry, name, value)
        self._write(entry)

    def entries(self, channel: str | None = None) -> list[Entry]:
        """Every entry, oldest first."""
        with self._lock:
            found = list(self._entries.values())
        return [e for e in found if channel is None or e.channel == channel]

    def clear(self) -> None:
        """Forget everything (files on disk stay)."""
        with self._lock:
            self._entries.clear()
            self._by_remote.clear()

    def _write(self, entry: Entry) -> None:
        if self.folder is None:
            return
        folder = self.folder / entry.channel
        folder.mkdir(parents=True, exist_ok=True)
        stem = _SAFE.sub("_", entry.remote_id)[:120]
        if entry.notice != "contract":  # a later notice may keep the channel's id: keep both files
            stem += f".{entry.notice}" + (f"-v{entry.version}" if entry.version is not None else "")
        (folder / f"{stem}.{entry.extension}").write_bytes(entry.body)
        meta = {**entry.summary(), "first_received_at": entry.first_received_at, **entry.meta}
        (folder / f"{stem}.json").write_text(json.dumps(meta, indent=1, default=str), "utf-8")

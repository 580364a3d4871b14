"""The embedded broker (`filesystem://`): kombu's folder transport, with messages that appear
whole.

kombu writes a message by opening `<time>_<uuid>.<queue>.msg` and then writing into it, while a
consumer in another process takes any file with that name at once: a consumer that comes between
the two gets an empty message, fails to decode it, and the worker stops. Here a message is written
under a name no consumer looks at and renamed into place (atomic on one file system).
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.json import dumps

ALIAS = "filesystem"
PATH = f"{__name__}:Transport"


class Channel(filesystem.Channel):
    def _put(self, queue: Any, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Put a message onto `queue`: written aside, then renamed into the folder."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".partial-{name}")
        try:
            with open(partial, "wb") as f:
                f.write(dumps(payload).encode())
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


def install() -> None:
    """Make `filesystem://` URLs use this transport in this process."""
    TRANSPORT_ALIASES[ALIAS] = PATH

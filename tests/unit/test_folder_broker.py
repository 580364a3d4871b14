"""The embedded broker never hands a consumer a half-written message (the demo's worker once
stopped on an empty message file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kombu import Connection
from kombu.transport import filesystem

from syndicator.runtime import folder_broker


def _connection(folder: Path, transport: type) -> Connection:
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "control_folder": str(folder)}
    return Connection(transport=transport, transport_options=options)


def _put_while_a_consumer_looks(folder: Path, transport: type, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Put one message; while it is being written, another channel takes whatever it finds."""
    seen: list[Any] = []
    with _connection(folder, transport) as producer, _connection(folder, transport) as consumer:
        reader = consumer.default_channel
        real_dumps = filesystem.dumps

        def dumps_then_look(payload: Any) -> str:
            text = real_dumps(payload)
            try:
                seen.append(reader._get("q"))
            except filesystem.Empty:
                seen.append("nothing yet")
            return text

        monkeypatch.setattr(filesystem, "dumps", dumps_then_look)
        monkeypatch.setattr(folder_broker, "dumps", dumps_then_look)
        producer.default_channel._put("q", {"n": 1})
        monkeypatch.undo()
        seen.append(reader._get("q"))
    return seen


def test_a_message_appears_whole_or_not_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _put_while_a_consumer_looks(tmp_path, folder_broker.Transport, monkeypatch) == [
        "nothing yet",
        {"n": 1},
    ]


def test_kombus_own_transport_has_the_race_this_module_closes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If kombu fixes its transport, this fails and the module can go."""
    with pytest.raises(ValueError, match="Expecting value"):
        _put_while_a_consumer_looks(tmp_path, filesystem.Transport, monkeypatch)


def test_install_points_filesystem_urls_at_this_transport() -> None:
    folder_broker.install()
    with Connection("filesystem://") as connection:
        assert type(connection.transport) is folder_broker.Transport

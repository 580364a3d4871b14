"""`syndicator tokens` and `syndicator serve` from the command line."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from syndicator.cli.app import app
from syndicator.runtime.wiring import Store
from syndicator.web.tokens import authenticate

runner = CliRunner()


@pytest.fixture
def cli_env(store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("SYNDICATOR_DATABASE_URL", store.engine.url.render_as_string(hide_password=False))
    return store


def test_tokens_create_prints_the_token_once_on_the_last_line(cli_env: Store) -> None:
    result = runner.invoke(app, ["tokens", "create", "--name", "jane.smith", "--role", "operator"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("syn_") and result.output.count(token) == 1
    from datetime import UTC, datetime

    principal = authenticate(cli_env.sessions, token, datetime.now(UTC))
    assert principal is not None and (principal.name, principal.role.value) == ("jane.smith", "operator")
    listed = runner.invoke(app, ["tokens", "list"])
    assert "jane.smith" in listed.output and "operator" in listed.output and token not in listed.output


def test_tokens_refuse_a_bad_role_and_a_duplicate_name(cli_env: Store) -> None:
    assert runner.invoke(app, ["tokens", "create", "--name", "x", "--role", "root"]).exit_code == 2
    assert runner.invoke(app, ["tokens", "create", "--name", "x"]).exit_code == 0
    again = runner.invoke(app, ["tokens", "create", "--name", "x"])
    assert again.exit_code == 2 and "exists already" in again.output


def test_tokens_revoke(cli_env: Store) -> None:
    created = runner.invoke(app, ["tokens", "create", "--name", "gone", "--role", "viewer"])
    token = created.output.strip().splitlines()[-1]
    revoked = runner.invoke(app, ["tokens", "revoke", "gone"])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    from datetime import UTC, datetime

    assert authenticate(cli_env.sessions, token, datetime.now(UTC)) is None
    assert runner.invoke(app, ["tokens", "revoke", "nobody"]).exit_code == 1


def test_serve_fails_clearly_when_the_port_is_taken(cli_env: Store) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.output

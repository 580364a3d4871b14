"""The one SMTP client: every e-mail the product sends (trade press adverts, alert e-mails to
ops) goes through `send_message`, and every SMTP failure becomes a channel error here.

    connect, EHLO, STARTTLS (when configured), AUTH (when a username is configured),
    MAIL FROM, RCPT TO each recipient, DATA, the dot-stuffed message, the end marker

    cannot connect, time-out or drop before the data was sent -> TransientError
    any 4xx reply (421 rate limiting included: SMTP has no Retry-After) -> TransientError
    530 / 534 / 535, AUTH or STARTTLS not offered, bad certificate --> AuthError
    any other 5xx reply --------------------------------------------> RejectedError
    time-out or drop while waiting for the reply to the data -------> OutcomeUnknown
    250 after the data ---------------------------------------------> Accepted(code, reply)

The data is sent by hand rather than with smtplib's `data()` so that a failure can be placed
before or after the end marker: only after it can the server hold the message (RFC 5321 4.1.1.4).
"""

from __future__ import annotations

import re
import smtplib
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from syndicator.channel.base import (
    AuthError,
    ChannelError,
    OutcomeUnknown,
    RejectedError,
    TransientError,
    scrub,
)

AUTH_CODES = frozenset({530, 534, 535})  # RFC 4954 section 6: auth required / too weak / refused
_EOL = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to hand a message over."""

    name: str  # who is configured, for messages: "trade-press", "alerts"
    host: str
    port: int
    starttls: bool = False
    username: str | None = None
    password: SecretStr | None = field(default=None, repr=False)
    timeout: float = 30.0
    password_variable: str = ""  # the environment variable a missing password is set with

    @property
    def where(self) -> str:
        """host:port, for messages."""
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Accepted:
    """The server's 250 after the data: it has taken responsibility for the message."""

    code: int
    reply: str


def dot_stuffed(body: bytes) -> bytes:
    """The DATA payload: CRLF lines, leading dots doubled, then the end marker (RFC 5321 4.5.2)."""
    lines = _EOL.sub(b"\r\n", body)
    if not lines.endswith(b"\r\n"):
        lines += b"\r\n"
    return re.sub(rb"(?m)^\.", b"..", lines) + b".\r\n"


class SmtpConnections:
    """Sessions kept open between messages, per server (RFC 5321 3.3: a client may send several
    mail transactions in one session): a message on a kept session skips the connection, the
    greeting, EHLO, STARTTLS, AUTH and QUIT, four to six round trips. Shared by threads."""

    def __init__(self, idle_limit: float = 30.0, keep: int = 16) -> None:
        self._idle_limit = idle_limit  # well within the server's own time-out (RFC 5321 4.5.3.2.7)
        self._keep = keep
        self._idle: dict[SmtpServer, list[tuple[float, smtplib.SMTP]]] = {}
        self._lock = threading.Lock()

    def take(self, server: SmtpServer) -> smtplib.SMTP | None:
        """An open session with `server` that no one else is using, or None."""
        stale = []
        found = None
        with self._lock:
            idle = self._idle.get(server, [])
            while idle and found is None:
                since, smtp = idle.pop()
                if time.monotonic() - since > self._idle_limit:
                    stale.append(smtp)
                else:
                    found = smtp
        for smtp in stale:
            _close(smtp)
        return found

    def give_back(self, server: SmtpServer, smtp: smtplib.SMTP) -> None:
        """Keep `smtp` for the next message to `server` (or close it when enough are kept)."""
        with self._lock:
            idle = self._idle.setdefault(server, [])
            if len(idle) < self._keep:
                idle.append((time.monotonic(), smtp))
                return
        _close(smtp)

    def close(self) -> None:
        """QUIT every kept session."""
        with self._lock:
            kept = [smtp for idle in self._idle.values() for _, smtp in idle]
            self._idle.clear()
        for smtp in kept:
            _close(smtp)


def send_message(
    server: SmtpServer,
    sender: str,
    recipients: list[str],
    body: bytes,
    *,
    what: str = "the message",
    secrets: Iterable[str] = (),
    connections: SmtpConnections | None = None,
) -> Accepted:
    """Send `body` from `sender` to `recipients`; raises a ChannelError for every failure. With
    `connections`, on a kept session when there is one, and the session is kept afterwards."""
    hidden = [*secrets, *([server.password.get_secret_value()] if server.password else [])]
    kept = connections.take(server) if connections is not None else None
    if kept is not None:
        progress = _Progress()
        try:
            accepted = _transaction(kept, server, sender, recipients, body, progress, greeted=True)
        except ChannelError:
            kept.close()
            raise
        except (smtplib.SMTPException, OSError) as exc:
            kept.close()
            if progress.data_sent or not _closed_by_server(exc):
                raise _mapped(exc, server, what, progress.data_sent, hidden) from exc
            # The server ended the kept session before this message's data: nothing of it was
            # delivered, so it goes on a new session (below).
        else:
            assert connections is not None
            connections.give_back(server, kept)
            return accepted
    try:
        smtp = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientError(
            f"cannot connect to the SMTP server {server.where}: {type(exc).__name__}"
        ) from exc
    progress = _Progress()
    done = False
    try:
        accepted = _transaction(smtp, server, sender, recipients, body, progress)
        done = True
        return accepted
    except ChannelError:
        raise
    except (smtplib.SMTPException, OSError) as exc:
        raise _mapped(exc, server, what, progress.data_sent, hidden) from exc
    finally:
        if done and connections is not None:
            connections.give_back(server, smtp)
        elif done:
            _close(smtp)
        else:
            smtp.close()  # a failed session is not reused; QUIT could only wait on it


def _closed_by_server(exc: Exception) -> bool:
    """The kept session had ended (disconnected or reset). A reply, even 421, is the server
    speaking about this message, and is mapped like on a new session."""
    return isinstance(exc, smtplib.SMTPServerDisconnected | ConnectionError)


class _Progress:
    """How far a transaction got: whether the end of the data reached the server."""

    data_sent = False


def _transaction(
    smtp: smtplib.SMTP,
    server: SmtpServer,
    sender: str,
    recipients: list[str],
    body: bytes,
    progress: _Progress,
    *,
    greeted: bool = False,
) -> Accepted:
    if not greeted:
        _greet(smtp, server)
    _expect(smtp.mail(sender), 250)
    for recipient in recipients:
        _expect(smtp.rcpt(recipient), 250, 251)
    _expect(smtp.docmd("DATA"), 354)
    smtp.send(dot_stuffed(body))
    progress.data_sent = True
    code, reply = smtp.getreply()
    _expect((code, reply), 250)
    return Accepted(code, reply.decode("utf-8", errors="replace"))


def _greet(smtp: smtplib.SMTP, server: SmtpServer) -> None:
    """EHLO, STARTTLS and AUTH: once per session."""
    smtp.ehlo_or_helo_if_needed()
    if server.starttls:
        smtp.starttls(context=ssl.create_default_context())
        smtp.ehlo()
    if server.username:
        if server.password is None:
            hint = f" (set {server.password_variable})" if server.password_variable else ""
            raise AuthError(f"{server.name} has a username but no password{hint}")
        smtp.login(server.username, server.password.get_secret_value())


def _mapped(
    exc: Exception, server: SmtpServer, what: str, data_sent: bool, secrets: list[str]
) -> ChannelError:
    """The one place an SMTP failure becomes a channel error."""
    where = server.where  # who answered
    if isinstance(exc, smtplib.SMTPResponseException):
        code, error = exc.smtp_code, exc.smtp_error
        text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
        reply = f"{code} {scrub(text, secrets) or ''}"
        common: dict[str, Any] = {"status_code": code, "excerpt": reply}
        if code in AUTH_CODES:
            return AuthError(f"{where} refused our SMTP credentials: {reply}", **common)
        if 400 <= code < 500:
            return TransientError(f"{where} deferred {what}: {reply}", **common)
        if code >= 500:
            return RejectedError(f"{where} refused {what}: {reply}", reasons=[reply], **common)
    if isinstance(exc, smtplib.SMTPNotSupportedError | ssl.SSLCertVerificationError):
        return AuthError(f"the SMTP server {where} cannot be used as configured: {exc}")
    if type(exc) is smtplib.SMTPException:  # login(): "No suitable authentication method"
        return AuthError(f"the SMTP server {where} cannot authenticate us: {exc}")
    if data_sent:
        return OutcomeUnknown(
            f"the SMTP server {where} did not confirm {what} after it was sent "
            f"({type(exc).__name__}); the recipient may have it"
        )
    return TransientError(f"the SMTP session with {where} failed: {type(exc).__name__}")


def _expect(answer: tuple[int, bytes], *accepted: int) -> None:
    code, text = answer
    if code not in accepted:
        raise smtplib.SMTPResponseException(code, text)


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()

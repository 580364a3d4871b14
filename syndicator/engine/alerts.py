"""Alert e-mails to ops: when a delivery becomes failed or needs_reconcile, or a channel's
breaker opens, the engine writes a row to `alerts`; the sweeper sends what has accumulated as
ONE e-mail once the oldest unsent alert is `group_window` old, so a storm of failures is one
message, not hundreds.

Configured by the active profile's `alerts` section (SMTP server, sender, recipients, group
window); the password comes from SYNDICATOR_ALERTS_PASSWORD. Without a section, alerts stay in
the table (the dashboard and `syndicator status` still show every failure). The e-mail goes
through the same SMTP client as trade press adverts (`syndicator.channel.smtp`).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr

import structlog
from pydantic import Field, SecretStr
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from syndicator.channel.base import ChannelError, ChannelSettings
from syndicator.channel.smtp import SmtpServer, send_message
from syndicator.config.files import Duration
from syndicator.runtime.wiring import Store
from syndicator.store.models import AlertRow

log = structlog.get_logger(__name__)
MAX_LISTED = 50


class AlertSettings(ChannelSettings):
    """`[profiles.<profile>.alerts]`."""

    smtp_host: str
    smtp_port: int = 25
    starttls: bool = False
    username: str | None = None
    password: SecretStr | None = None
    sender: str
    to: list[str] = Field(min_length=1)
    group_window: Duration = timedelta(minutes=5)
    timeout: float = 10.0


def compose(alerts: list[AlertRow], settings: AlertSettings, now: datetime) -> EmailMessage:
    """One e-mail summarising every alert given."""
    kinds = Counter(a.kind for a in alerts)
    destinations = sorted({a.destination for a in alerts})
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.to)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain="tender-syndicator")
    message["X-Syndicator-Alert"] = "1"
    summary = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in sorted(kinds.items()))
    message["Subject"] = f"[tender-syndicator] {summary} ({', '.join(destinations)})"
    lines = [
        f"{len(alerts)} alert(s) since {min(a.at for a in alerts):%Y-%m-%d %H:%M} UTC: {summary}.",
        "",
    ]
    for alert in alerts[:MAX_LISTED]:
        target = f"delivery {alert.delivery_id}" if alert.delivery_id else "channel"
        lines.append(f"- {alert.at:%H:%M:%S} {alert.kind} {alert.destination} {target}: {alert.message}")
    if len(alerts) > MAX_LISTED:
        lines.append(f"- ... and {len(alerts) - MAX_LISTED} more")
    lines += [
        "",
        "See them: syndicator status --state failed, syndicator status --state needs_reconcile,",
        "syndicator channels, or the dashboard's Failed page. Re-push with syndicator repush.",
    ]
    message.set_content("\n".join(lines))
    return message


def send(message: EmailMessage, settings: AlertSettings) -> None:
    """Hand the e-mail to the SMTP server; raises a ChannelError when it is not accepted."""
    server = SmtpServer(
        name="alerts",
        host=settings.smtp_host,
        port=settings.smtp_port,
        starttls=settings.starttls,
        username=settings.username,
        password=settings.password,
        timeout=settings.timeout,
        password_variable="SYNDICATOR_ALERTS_PASSWORD",  # noqa: S106 - a variable's name
    )
    send_message(
        server,
        parseaddr(settings.sender)[1],
        list(settings.to),
        message.as_bytes(policy=SMTP),
        what="the alert e-mail",
        secrets=settings.secret_values(),
    )


def _due(session: Session, now: datetime, window: timedelta) -> list[AlertRow]:
    oldest = session.scalar(
        select(AlertRow.at).where(AlertRow.sent_at.is_(None)).order_by(AlertRow.id).limit(1)
    )
    if oldest is None or oldest > now - window:
        return []
    query = select(AlertRow).where(AlertRow.sent_at.is_(None)).order_by(AlertRow.id).limit(1000)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def flush(store: Store, settings: AlertSettings, now: datetime) -> int:
    """Send one grouped e-mail if alerts are due; returns how many alerts it carried."""
    with store.sessions.begin() as session:
        alerts = _due(session, now, settings.group_window)
        if not alerts:
            return 0
        try:
            send(compose(alerts, settings, now), settings)
        except ChannelError as exc:  # kept unsent: the next sweep tries again
            log.warning(
                "alert e-mail failed; will retry",
                error=exc.message,
                error_class=exc.error_class,
                alerts=len(alerts),
            )
            return 0
        session.execute(update(AlertRow).where(AlertRow.id.in_([a.id for a in alerts])).values(sent_at=now))
    log.info("alert e-mail sent", alerts=len(alerts), to=settings.to)
    return len(alerts)

"""Deliver outbox alerts through Apprise URLs (Slack, e-mail, webhooks, ...).

Each URL is notified on its own so that each channel's failure is known. An alert is
marked sent only when every channel took it; otherwise it stays pending, with the
error, and is retried next cycle until it runs out of attempts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import apprise

from extractors.records import Alert


@dataclass(frozen=True)
class Delivery:
    """The outcome of one delivery attempt of one alert."""

    alert_id: str
    status: str  # sent | logged (no channel configured) | pending (will retry) | failed
    error: str | None = None


def redact(url: str) -> str:
    """A form of an Apprise URL that is safe to log: tokens and passwords hidden."""
    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin:
        return plugin.url(privacy=True).split("?", 1)[0]
    return url.split("://", 1)[0] + "://(invalid URL)"


def invalid_urls(urls: tuple[str, ...]) -> list[str]:
    """The redacted forms of the URLs Apprise does not understand."""
    return [redact(u) for u in urls if not apprise.Apprise.instantiate(u, suppress_exceptions=True)]


def deliver(alert: Alert, urls: tuple[str, ...], max_attempts: int, log: logging.Logger) -> Delivery:
    """Log ``alert`` and send it to every channel in ``urls``."""
    log.info("ALERT %s | %s", alert.title, alert.url or "")
    if not urls:
        return Delivery(alert.alert_id, "logged")
    errors = []
    for url in urls:
        channel = apprise.Apprise()
        if not channel.add(url):
            errors.append(f"{redact(url)}: not a valid Apprise URL")
            continue
        body = alert.body if not alert.url or alert.url in alert.body else f"{alert.body}\n{alert.url}"
        result = channel.notify(title=alert.title, body=body)
        if not result:
            reasons = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR")]
            errors.append(f"{redact(url)}: {reasons[-1] if reasons else 'delivery failed'}")
    if not errors:
        return Delivery(alert.alert_id, "sent")
    error = "; ".join(errors)
    final = alert.attempts + 1 >= max_attempts
    log.warning("alert %s not delivered (attempt %d): %s", alert.alert_id, alert.attempts + 1, error)
    return Delivery(alert.alert_id, "failed" if final else "pending", error)

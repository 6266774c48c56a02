"""Deliver outbox alerts through Apprise URLs (Slack, e-mail, webhooks, ...).

Each URL is notified on its own, so that each channel's result is known: an alert is
marked sent once every channel has it; until then it stays pending, with the error, and
the next cycle retries only the channels that failed, until it runs out of attempts.
"""

from __future__ import annotations

import hashlib
import logging

import apprise

from extractors.records import Alert, Delivery


def redact(url: str) -> str:
    """A form of an Apprise URL that is safe to log: tokens and passwords hidden."""
    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin:
        return plugin.url(privacy=True).split("?", 1)[0]
    return url.split("://", 1)[0] + "://(invalid URL)"


def channel_key(url: str) -> str:
    """A stable key for a channel that does not reveal its URL (which holds secrets)."""
    return hashlib.sha256(url.encode()).hexdigest()[:12]


def deliver(alert: Alert, urls: tuple[str, ...], max_attempts: int, log: logging.Logger) -> Delivery:
    """Log ``alert`` and send it to every channel in ``urls`` that does not have it yet."""
    log.info("ALERT %s | %s", alert.title, alert.url or "")
    if not urls:
        return Delivery(alert.alert_id, "logged")
    body = alert.body if not alert.url or alert.url in alert.body else f"{alert.body}\n{alert.url}"
    errors, delivered = [], []
    for url in urls:
        if channel_key(url) in alert.delivered_to:
            continue
        channel = apprise.Apprise()
        if not channel.add(url):
            errors.append(f"{redact(url)}: not a valid Apprise URL")
            continue
        result = channel.notify(title=alert.title, body=body)
        if result:
            delivered.append(channel_key(url))
        else:
            reasons = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR")]
            errors.append(f"{redact(url)}: {reasons[-1] if reasons else 'delivery failed'}")
    if not errors:
        return Delivery(alert.alert_id, "sent", delivered=tuple(delivered))
    error = "; ".join(errors)
    final = alert.attempts + 1 >= max_attempts
    log.warning("alert %s not delivered (attempt %d): %s", alert.alert_id, alert.attempts + 1, error)
    return Delivery(alert.alert_id, "failed" if final else "pending", error, tuple(delivered))

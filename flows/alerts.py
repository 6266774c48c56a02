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


def deliver_digest(
    alerts: list[Alert], urls: tuple[str, ...], max_attempts: int, log: logging.Logger
) -> list[Delivery]:
    """Send ``alerts`` as one message per channel (each channel gets those it lacks), and
    return each alert's outcome."""
    for alert in alerts:
        log.info("ALERT %s | %s", alert.title, alert.url or "")
    if not urls:
        return [Delivery(a.alert_id, "logged") for a in alerts]
    errors: dict[str, list[str]] = {a.alert_id: [] for a in alerts}
    delivered: dict[str, list[str]] = {a.alert_id: [] for a in alerts}
    for url in urls:
        todo = [a for a in alerts if channel_key(url) not in a.delivered_to]
        if not todo:
            continue
        title = f"storywatch: {len(todo)} alerts" if len(todo) > 1 else todo[0].title
        body = "\n\n".join(f"{a.title}\n{_body(a)}" for a in todo)
        error = _notify(url, title, body)
        for alert in todo:
            (
                errors[alert.alert_id].append(error)
                if error
                else delivered[alert.alert_id].append(channel_key(url))
            )
    return [_outcome(a, errors[a.alert_id], delivered[a.alert_id], max_attempts, log) for a in alerts]


def deliver(alert: Alert, urls: tuple[str, ...], max_attempts: int, log: logging.Logger) -> Delivery:
    """Log ``alert`` and send it to every channel in ``urls`` that does not have it yet."""
    log.info("ALERT %s | %s", alert.title, alert.url or "")
    if not urls:
        return Delivery(alert.alert_id, "logged")
    errors, delivered = [], []
    for url in urls:
        if channel_key(url) in alert.delivered_to:
            continue
        error = _notify(url, alert.title, _body(alert))
        (errors.append(error) if error else delivered.append(channel_key(url)))
    return _outcome(alert, errors, delivered, max_attempts, log)


def _body(alert: Alert) -> str:
    return alert.body if not alert.url or alert.url in alert.body else f"{alert.body}\n{alert.url}"


def _notify(url: str, title: str, body: str) -> str | None:
    """Send one message to one channel; the error (its URL redacted), or None once delivered."""
    channel = apprise.Apprise()
    if not channel.add(url):
        return f"{redact(url)}: not a valid Apprise URL"
    result = channel.notify(title=title, body=body)
    if result:
        return None
    reasons = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR")]
    return f"{redact(url)}: {reasons[-1] if reasons else 'delivery failed'}"


def _outcome(
    alert: Alert, errors: list[str], delivered: list[str], max_attempts: int, log: logging.Logger
) -> Delivery:
    if not errors:
        return Delivery(alert.alert_id, "sent", delivered=tuple(delivered))
    error = "; ".join(errors)
    final = alert.attempts + 1 >= max_attempts
    log.warning("alert %s not delivered (attempt %d): %s", alert.alert_id, alert.attempts + 1, error)
    return Delivery(alert.alert_id, "failed" if final else "pending", error, tuple(delivered))

"""Alert delivery through Apprise to a real webhook receiver on 127.0.0.1."""

from __future__ import annotations

import logging

import pytest

from extractors.records import Alert
from flows.alerts import deliver, redact
from tests.loopback import Loopback, closed_port

ALERT = Alert(
    alert_id="change:abc",
    kind="stance_change",
    title="United States changed stance on us-security-guarantee: noncommittal -> support",
    body='Evidence: "Washington has committed to back the force."\nhttp://127.0.0.1/articles/a.html',
    url="http://127.0.0.1/articles/a.html",
)
LOG = logging.getLogger("storywatch.test")


def hook(site: Loopback, credentials: str = "") -> str:
    return f"json://{credentials}127.0.0.1:{site.base.rsplit(':', 1)[1]}/hook"


def test_an_alert_reaches_the_webhook_with_title_evidence_and_link(site: Loopback):
    delivery = deliver(ALERT, (hook(site),), max_attempts=3, log=LOG)
    assert delivery.status == "sent" and delivery.error is None
    assert len(site.webhooks) == 1
    assert site.webhooks[0]["title"] == ALERT.title
    assert "Washington has committed to back the force." in site.webhooks[0]["message"]
    assert ALERT.url in site.webhooks[0]["message"]


def test_every_alert_is_logged_even_with_no_channel(caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.INFO, logger="storywatch.test"):
        delivery = deliver(ALERT, (), max_attempts=3, log=LOG)
    assert delivery.status == "logged"
    assert any(ALERT.title in r.getMessage() and ALERT.url in r.getMessage() for r in caplog.records)


def test_a_failed_delivery_stays_pending_and_the_error_hides_credentials(site: Loopback):
    site.webhook_failures = 1
    delivery = deliver(ALERT, (hook(site, "bot:s3cret-token@"),), max_attempts=3, log=LOG)
    assert delivery.status == "pending"
    assert "json://" in delivery.error and "s3cret-token" not in delivery.error
    assert site.webhooks == []


def test_the_last_allowed_attempt_marks_the_alert_failed(site: Loopback):
    site.webhook_failures = 1
    spent = Alert(**{**ALERT.__dict__, "attempts": 2})
    assert deliver(spent, (hook(site),), max_attempts=3, log=LOG).status == "failed"


def test_an_invalid_apprise_url_is_named_without_its_secret():
    delivery = deliver(ALERT, ("notaservice://token-123",), max_attempts=3, log=LOG)
    assert delivery.status == "pending"
    assert "not a valid Apprise URL" in delivery.error and "token-123" not in delivery.error


def test_one_failing_channel_does_not_stop_the_others(site: Loopback):
    delivery = deliver(ALERT, (f"json://127.0.0.1:{closed_port()}/", hook(site)), max_attempts=3, log=LOG)
    assert len(site.webhooks) == 1
    assert delivery.status == "pending" and "json://127.0.0.1" in delivery.error


def test_redact_hides_passwords_and_tokens():
    assert "hunter2" not in redact("json://user:hunter2@127.0.0.1:8080/hook")
    assert "TOKENSECRET" not in redact("slack://TOKENSECRETA/TOKENSECRETB/TOKENSECRETC/#news")


def test_a_retry_skips_the_channels_that_already_have_the_alert(site: Loopback):
    channels = (f"json://127.0.0.1:{closed_port()}/", hook(site))
    first = deliver(ALERT, channels, max_attempts=3, log=LOG)
    assert first.status == "pending" and len(first.delivered) == 1
    assert len(site.webhooks) == 1

    retry = Alert(**{**ALERT.__dict__, "attempts": 1, "delivered_to": first.delivered})
    second = deliver(retry, channels, max_attempts=3, log=LOG)
    assert len(site.webhooks) == 1  # the webhook that had it is not sent it again
    assert second.status == "pending" and second.delivered == ()

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


def test_a_failed_alert_waits_longer_each_time_and_is_sent_exactly_once(site: Loopback, cli, warehouse_path):
    from datetime import UTC, datetime

    from flows.ingest import deliver_pending
    from flows.settings import Settings
    from warehouse import store
    from warehouse.connection import open_warehouse

    settings = Settings(warehouse=warehouse_path, alert_urls=(hook(site),), alert_retry_wait=3600)
    with open_warehouse(warehouse_path) as con:
        store.queue_alert(con, "uk-troops-ukraine", ALERT, datetime.now(UTC))
        store.queue_alert(con, "uk-troops-ukraine", ALERT, datetime.now(UTC))  # queued once only

    site.webhook_failures = 1  # the receiver is down for the first post, then recovers
    [first] = deliver_pending(settings, "uk-troops-ukraine", LOG)
    assert first.status == "pending" and site.webhooks == []
    # The next cycle comes before the wait is over: no attempt.
    assert deliver_pending(settings, "uk-troops-ukraine", LOG) == []
    with open_warehouse(warehouse_path, read_only=True) as con:
        [(wait,)] = con.execute("SELECT next_attempt_at - created_at FROM alerts").fetchall()
    assert 3500 <= wait.total_seconds() <= 3700

    # By hand, it goes now; after that it is never sent again.
    retried = cli("alerts", "--retry", "--warehouse", str(warehouse_path), "--format", "csv",
                  extra_env={"STORYWATCH_ALERT_URLS": hook(site)})  # fmt: skip
    assert retried.returncode == 0, retried.stderr
    assert "Retried 1 alert(s): 1 delivered" in retried.stderr
    assert "stance_change,sent,2," in retried.stdout
    assert deliver_pending(settings, "uk-troops-ukraine", LOG, by_hand=True) == []
    assert [w["title"] for w in site.webhooks] == [ALERT.title]


def test_an_alert_given_up_on_can_be_sent_by_hand(site: Loopback, cli, warehouse_path):
    from datetime import UTC, datetime

    from flows.ingest import deliver_pending
    from flows.settings import Settings
    from warehouse import store
    from warehouse.connection import open_warehouse

    settings = Settings(warehouse=warehouse_path, alert_urls=(hook(site),), max_alert_attempts=1)
    with open_warehouse(warehouse_path) as con:
        store.queue_alert(con, "uk-troops-ukraine", ALERT, datetime.now(UTC))
    site.webhook_failures = 1
    [given_up] = deliver_pending(settings, "uk-troops-ukraine", LOG)
    assert given_up.status == "failed"
    assert deliver_pending(settings, "uk-troops-ukraine", LOG) == []  # no attempts left

    [resent] = deliver_pending(settings, "uk-troops-ukraine", LOG, by_hand=True)
    assert resent.status == "sent" and len(site.webhooks) == 1


def queued(warehouse_path, *alerts: Alert) -> None:
    from datetime import UTC, datetime

    from warehouse import store
    from warehouse.connection import open_warehouse

    with open_warehouse(warehouse_path) as con:
        for alert in alerts:
            store.queue_alert(con, "uk-troops-ukraine", alert, datetime.now(UTC))


DOWN = Alert("source_down:x", "source_down", "Source down: Loopback World News", "failing since ...", None)


def test_a_digest_sends_one_message_per_cycle_with_every_alert(site: Loopback, warehouse_path):
    from flows.ingest import deliver_pending
    from flows.settings import Settings

    queued(warehouse_path, ALERT, DOWN)
    settings = Settings(warehouse=warehouse_path, alert_urls=(hook(site),), alert_digest=True)
    deliveries = deliver_pending(settings, "uk-troops-ukraine", LOG)

    assert [d.status for d in deliveries] == ["sent", "sent"]
    [message] = site.webhooks
    assert message["title"] == "storywatch: 2 alerts"
    assert ALERT.title in message["message"] and DOWN.title in message["message"]
    assert deliver_pending(settings, "uk-troops-ukraine", LOG) == []


def test_a_kind_of_alert_turned_off_is_logged_but_not_sent(site: Loopback, warehouse_path):
    from flows.ingest import deliver_pending
    from flows.settings import Settings

    queued(warehouse_path, ALERT, DOWN)
    settings = Settings(warehouse=warehouse_path, alert_urls=(hook(site),), alert_kinds=("stance_change",))
    deliveries = {d.alert_id: d.status for d in deliver_pending(settings, "uk-troops-ukraine", LOG)}

    assert deliveries == {ALERT.alert_id: "sent", DOWN.alert_id: "logged"}
    assert [w["title"] for w in site.webhooks] == [ALERT.title]

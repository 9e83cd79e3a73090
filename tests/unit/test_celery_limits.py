"""The Celery engine's bounds on a dispatch (issue 16, item 1): a pass is cut off a little after its handlers'
deadline (core.bounded_pass, tested in test_relay_watchdog), well before Celery's own time limits, and those
before the broker's visibility timeout."""

from __future__ import annotations

from orders_service.relay import celery_app


def test_the_limits_come_in_order() -> None:
    deadline = celery_app.settings.relay_deadline_s
    assert celery_app.BUDGET_S + deadline < celery_app.PASS_LIMIT_S < celery_app.SOFT_LIMIT_S < celery_app.HARD_LIMIT_S
    conf = celery_app.app.conf
    assert (conf.task_soft_time_limit, conf.task_time_limit) == (celery_app.SOFT_LIMIT_S, celery_app.HARD_LIMIT_S)
    assert conf.broker_transport_options["visibility_timeout"] > celery_app.HARD_LIMIT_S

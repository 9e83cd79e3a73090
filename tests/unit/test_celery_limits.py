"""The Celery engine's bounds on a dispatch (issue 16, item 1): a pass is cut off after its handlers' deadline,
counted as a relay restart, well before Celery's own time limits and the broker's visibility timeout."""

from __future__ import annotations

import asyncio

from prometheus_client import REGISTRY

from orders_service.relay import celery_app


def restarts() -> float:
    return REGISTRY.get_sample_value("orders_relay_restarts_total") or 0.0


def test_the_limits_come_in_order() -> None:
    deadline = celery_app.settings.relay_deadline_s
    assert celery_app.BUDGET_S + deadline < celery_app.PASS_LIMIT_S < celery_app.SOFT_LIMIT_S < celery_app.HARD_LIMIT_S
    conf = celery_app.app.conf
    assert (conf.task_soft_time_limit, conf.task_time_limit) == (celery_app.SOFT_LIMIT_S, celery_app.HARD_LIMIT_S)
    assert conf.broker_transport_options["visibility_timeout"] > celery_app.HARD_LIMIT_S


def test_a_wedged_dispatch_is_cut_off_and_counted() -> None:
    before = restarts()
    never = asyncio.Event()
    assert celery_app._Process.run_bounded(never.wait(), 0.05, "a test dispatch") is None
    assert restarts() == before + 1
    assert celery_app._Process.run_bounded(asyncio.sleep(0, result=7), 5.0, "a quick one") == 7
    assert restarts() == before + 1

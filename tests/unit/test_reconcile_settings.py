"""ORDERS_RECONCILE_S: how often both engines read unfinished parcels back from their couriers, 0 for never."""

from __future__ import annotations

from pathlib import Path

import pytest

from orders_service.infra.settings import Settings
from orders_service.relay.celery_app import reconcile_schedule


def _settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"ORDERS_DATA_DIR": str(tmp_path), **env})


def test_reconciliation_runs_every_ten_minutes_unless_told_otherwise(tmp_path: Path) -> None:
    assert _settings(tmp_path).reconcile_s == 600
    assert reconcile_schedule(_settings(tmp_path)) == {
        "couriers-reconcile": {"task": "couriers.reconcile", "schedule": 600.0}
    }
    assert reconcile_schedule(_settings(tmp_path, ORDERS_RECONCILE_S="45"))["couriers-reconcile"]["schedule"] == 45


def test_zero_turns_reconciliation_off_and_a_negative_is_refused(tmp_path: Path) -> None:
    assert reconcile_schedule(_settings(tmp_path, ORDERS_RECONCILE_S="0")) == {}
    with pytest.raises(ValueError, match="ORDERS_RECONCILE_S"):
        _settings(tmp_path, ORDERS_RECONCILE_S="-1")
    with pytest.raises(ValueError, match="ORDERS_RECONCILE_S"):
        _settings(tmp_path, ORDERS_RECONCILE_S="often")

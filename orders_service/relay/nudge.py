"""The API's half of the Celery engine: after a commit that wrote outbox rows, ask a worker to dispatch now.

Beat dispatches every second anyway (the safety net); the nudge takes that second off every courier sync.
Nudges are coalesced (one message per burst of commits) and best effort: if the broker is down, beat and
the outbox row are still there.
"""

from __future__ import annotations

import asyncio
import logging

from celery import Celery

log = logging.getLogger(__name__)
DISPATCH_TASK = "outbox.dispatch"
EXPIRES_S = 2.0  # as beat's ticks: a nudge the workers reach late finds nothing a later tick would not


class DispatchNudge:
    COALESCE_S = 0.02

    def __init__(self, broker_url: str, queue: str) -> None:
        self.queue = queue
        self.app = Celery("orders_service_api", broker=broker_url)
        self.app.conf.update(broker_connection_timeout=2, broker_connection_retry=False)
        self._pending = False

    def wake(self) -> None:
        """Called after a commit, on the event loop: schedule one send for this burst of commits."""
        if self._pending:
            return
        self._pending = True
        loop = asyncio.get_running_loop()
        loop.call_later(self.COALESCE_S, lambda: loop.run_in_executor(None, self._send))

    def _send(self) -> None:
        self._pending = False  # a commit from now on needs a dispatch of its own
        try:
            self.app.send_task(DISPATCH_TASK, queue=self.queue, retry=False, ignore_result=True, expires=EXPIRES_S)
        except Exception as error:  # the broker is away: beat's next tick dispatches instead
            log.warning("could not nudge the Celery dispatcher: %s", error)

    def close(self) -> None:
        self.app.close()

"""The integration tests' poll: it fails on the relay's state, not on one slow request of a stalled machine."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration import api
from tests.integration.api import eventually

pytestmark = pytest.mark.anyio


async def test_a_check_that_overran_the_deadline_is_asked_once_more() -> None:
    # The CI failure this reproduces: the relay settled the message while one GET was stalled past the deadline;
    # that GET answered from before, and the poll gave up without looking again.
    answers = iter([None, "settled"])

    async def stalled_then_settled() -> str | None:
        answer = next(answers)
        if answer is None:
            await asyncio.sleep(0.3)  # began in time, ended past the deadline
        return answer

    assert await eventually(stalled_then_settled, within_s=0.1, interval=0.01) == "settled"


async def test_a_state_never_reached_still_fails() -> None:
    calls = 0

    async def never() -> None:
        nonlocal calls
        calls += 1

    with pytest.raises(AssertionError, match=r"not reached within 0\.05 s; last: None"):
        await eventually(never, within_s=0.05, interval=0.01)
    assert calls >= 2


async def test_a_stall_of_the_whole_process_is_not_time_the_relay_had(monkeypatch: pytest.MonkeyPatch) -> None:
    # The next CI failure: every thread of the test process stood still for 17 s, the relay's too; the relay
    # finished its work just after, while the poll, its wall-clock deadline long gone, had given up.
    monkeypatch.setattr(api, "STALL_S", 0.1)
    answers = iter([None, None, None, "settled"])
    stalls = 0

    async def stalled_twice() -> str | None:
        nonlocal stalls
        answer = next(answers)
        if answer is None and stalls < 2:
            stalls += 1
            await asyncio.sleep(0.15)  # counted as 0.1 each
        return answer

    assert await eventually(stalled_twice, within_s=0.2, interval=0.01) == "settled"

"""The in-memory link rate limit: per-request work that does not grow with the number of keys, and the client
address it counts under (X-Forwarded-For believed from trusted proxies only)."""

from __future__ import annotations

import sys
from collections.abc import Coroutine
from types import FrameType
from typing import Any

import pytest

from orders_service.links import ratelimit
from orders_service.links.ratelimit import MemoryWindow
from orders_service.ops.clients import TrustedProxies

WINDOW_S, LIMIT = 60.0, 5
CAP = 5_000


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def run(coro: Coroutine[Any, Any, float]) -> float:
    """A memory window never waits: one step runs a hit to its end."""
    try:
        coro.send(None)
    except StopIteration as done:
        return float(done.value)
    raise AssertionError("the memory window awaited something")


def opcodes(window: MemoryWindow, key: str) -> int:
    """Bytecode instructions the limiter's own code runs for one hit (work counted, not timed)."""
    count = 0

    def local(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if event == "opcode":
            count += 1
        return local

    def trace(frame: FrameType, event: str, arg: object) -> Any:
        if frame.f_code.co_filename != ratelimit.__file__:
            return None
        frame.f_trace_opcodes = True
        return local

    sys.settrace(trace)
    try:
        run(window.hit(key, LIMIT, WINDOW_S))
    finally:
        sys.settrace(None)
    return count


def fill(window: MemoryWindow, count: int, clock: Clock, prefix: str = "guess") -> None:
    for n in range(count):
        clock.now += 0.0001  # all within one window: nothing may be forgotten
        run(window.hit(f"{prefix}:{n}", LIMIT, WINDOW_S))


def test_a_hit_costs_the_same_with_ten_keys_or_as_many_as_it_keeps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "_MAX_MEMORY_KEYS", CAP)  # the cap, made small so that the test is quick
    clock = Clock()
    few, many = MemoryWindow(clock), MemoryWindow(clock)
    fill(few, 10, clock)
    fill(many, CAP, clock)  # a guesser's tokens up to the cap, every one still in its window
    for key in ("client:203.0.113.9", "guess:5", "client:198.51.100.1"):  # new, already counted, new
        small, large = opcodes(few, key), opcodes(many, key)
        assert large <= small + 20, (key, small, large)
    assert len(many.hits) <= CAP


def test_expired_keys_are_dropped_a_few_at_a_time_as_requests_come() -> None:
    clock = Clock()
    window = MemoryWindow(clock)
    start = clock.now
    fill(window, 20_000, clock)
    clock.now = start + WINDOW_S  # from now on the first keys leave the window one after another, as they came
    total = 0
    for n in range(1_000):
        clock.now += 0.0001
        total += opcodes(window, f"later:{n}")
    # Dropping is paid for by the requests that made the keys: a thousand requests drop about a thousand
    # keys, whatever the 20,000 still held.
    assert total <= 1_000 * 200, total
    assert 19_000 <= len(window.hits) <= 20_000


def test_the_window_still_counts_and_forgets() -> None:
    clock = Clock()
    window = MemoryWindow(clock, max_keys=3)
    assert [run(window.hit("a", 2, WINDOW_S)) for _ in range(3)] == [0.0, 0.0, WINDOW_S]  # the third is refused
    clock.now += WINDOW_S
    assert run(window.hit("a", 2, WINDOW_S)) == 0.0
    for key in ("b", "c", "d"):
        run(window.hit(key, 2, WINDOW_S))
    assert list(window.hits) == ["b", "c", "d"]  # at the cap, the least recently used ("a") made room


def scope(peer: str, *forwarded: str) -> dict[str, Any]:
    return {"client": (peer, 50_000), "headers": [(b"x-forwarded-for", f.encode()) for f in forwarded]}


def test_forwarded_for_is_believed_from_trusted_proxies_only() -> None:
    nobody, ours = TrustedProxies(), TrustedProxies(["127.0.0.1", "10.0.0.0/8"])
    assert nobody.client(scope("127.0.0.1", "198.51.100.7")) == "127.0.0.1"
    assert ours.client(scope("203.0.113.5", "198.51.100.7")) == "203.0.113.5"  # not a proxy of ours
    assert ours.client(scope("127.0.0.1", "198.51.100.7")) == "198.51.100.7"
    # The client writes what it likes on the left; our proxies append on the right.
    assert ours.client(scope("127.0.0.1", "1.2.3.4, 198.51.100.7, 10.1.2.3")) == "198.51.100.7"
    assert ours.client(scope("127.0.0.1", "1.2.3.4", "198.51.100.7")) == "198.51.100.7"
    assert ours.client(scope("127.0.0.1", "10.0.0.9, 10.1.2.3")) == "10.0.0.9"
    assert ours.client(scope("127.0.0.1")) == "127.0.0.1"
    assert ours.client(scope("testclient", "1.2.3.4")) == "testclient"


@pytest.mark.parametrize(
    ("entries", "options"),
    [
        ((), {"proxy_headers": False, "forwarded_allow_ips": ""}),
        (("127.0.0.1/32",), {"proxy_headers": True, "forwarded_allow_ips": ["127.0.0.1/32"]}),
    ],
)
def test_uvicorn_gets_the_same_list(entries: tuple[str, ...], options: dict[str, Any]) -> None:
    assert TrustedProxies(entries).uvicorn_options() == options

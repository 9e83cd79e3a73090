"""Commit, then answer: a response leaves only once the request's transaction is committed.

advanced-alchemy's autocommit hook commits in `before_send` and, when COMMIT fails, logs at DEBUG and sends
the 2xx anyway: the client is told a change was saved that was not (a courier does not resend a webhook it
saw answered). Here the response's first message waits for the commit instead. A 2xx or 3xx commits (a
dashboard form answers 303 on success), anything else rolls back; a commit that fails is logged at ERROR and
answered 503 with Retry-After in place of the handler's answer, whose body is dropped. advanced-alchemy's
default `before_send` hook then only closes the session.

Work done in sessions of its own (`runtime.db()` with `session.begin()`) commits inside the handler: a failed
commit there raises, and the exception table answers it (orders_service.infra.problems).

A request that ends without an answer (cancelled: a client's timeout, as the embedded sandbox's webhook client
has, or a shutdown) never reaches `before_send`, which would have closed its session. That session kept its
connection and its open transaction until garbage collection: on PostgreSQL its row locks, on SQLite the write
lock and the process's writer turn (db/engine.WriterQueue), so every later writer waited, the courier's retries
of the same webhook included. It is closed here instead, shielded from the cancellation, which rolls it back.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import anyio
from advanced_alchemy.extensions.litestar._utils import delete_aa_scope_state, get_aa_scope_state
from litestar import Request
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncSession

from orders_service.infra.problems import commit_failed_response

log = logging.getLogger(__name__)
COMMITTED = range(200, 400)


class CommitBeforeSending(ASGIMiddleware):
    """Ends the request's session transaction (advanced-alchemy's, under `session_scope_key`) before answering."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, session_scope_key: str) -> None:
        self.session_scope_key = session_scope_key

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        replaced = False

        async def sending(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return  # the rest of the answer that the 503 replaced
            if message["type"] == "http.response.start":
                failure = await self._end_transaction(scope, message["status"])
                if failure is not None:
                    replaced = True
                    request: Request[Any, Any, Any] = Request(scope, receive)
                    response = commit_failed_response(request, failure)
                    await response.to_asgi_response(app=None, request=request)(scope, receive, send)
                    return
            await send(message)

        try:
            await next_app(scope, receive, sending)
        finally:
            # Still here: no answer reached `before_send`'s close (see the module's docstring).
            session = cast("AsyncSession | None", get_aa_scope_state(scope, self.session_scope_key))
            if session is not None:
                delete_aa_scope_state(scope, self.session_scope_key)
                await _close_shielded(session)

    async def _end_transaction(self, scope: Scope, status: int) -> Exception | None:
        """Commit or roll back the request's session; the exception of a commit that failed, else None."""
        session = cast("AsyncSession | None", get_aa_scope_state(scope, self.session_scope_key))
        if session is None or not session.in_transaction():
            return None
        if status not in COMMITTED:
            try:
                await session.rollback()
            except Exception:  # the connection is gone: nothing of the transaction was kept, close() cleans up
                log.warning("rollback after a %s answer failed", status, exc_info=True)
            return None
        try:
            await session.commit()
        except Exception as failure:
            try:
                await session.rollback()
            except Exception:  # the same lost connection, most likely; close() cleans up
                log.debug("rollback after a failed commit failed too", exc_info=True)
            return failure
        return None


_CLOSING: set[asyncio.Task[None]] = set()  # closes under way, kept from garbage collection until done


async def _close_shielded(session: AsyncSession) -> None:
    """Close (and so roll back) `session` in a task of its own, which a cancellation of the caller does not
    cut short: anyio's scope, as a timeout cancels, and asyncio's own cancellation alike."""
    closing = asyncio.ensure_future(session.close())
    _CLOSING.add(closing)
    closing.add_done_callback(_CLOSING.discard)
    try:
        with anyio.CancelScope(shield=True):
            await asyncio.shield(closing)
    except Exception:  # the connection is gone: the server has ended the transaction itself
        log.warning("closing the session of a request that was not answered failed", exc_info=True)

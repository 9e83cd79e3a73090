"""A small TCP load balancer in front of the API processes, as nginx or HAProxy would sit in production.

Each client connection goes to the next backend in turn. A backend that refuses the connection (its process is
dead) is skipped and the next one tried, like nginx's `proxy_next_upstream error` or HAProxy's `option
redispatch`: nothing was sent to it, so nothing is repeated. A connection whose backend dies after bytes were
forwarded is closed, not replayed elsewhere: the request may have been applied, and a POST is not idempotent, so
the client sees the error and the history records it.

No maintained PyPI package does only this (the candidates are HTTP reverse proxies on aiohttp or Django, or
unmaintained); the per-backend counts for the report are easy here and would not be there.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass

CONNECT_TIMEOUT_S = 2.0  # a backend that neither accepts nor refuses within this is skipped too
CHUNK = 65536


@dataclass
class BackendStats:
    served: int = 0  # client connections forwarded to it
    failed_over: int = 0  # connects it refused (or timed out), after which the next backend was tried
    broken: int = 0  # forwarded connections it closed or reset before answering a byte (it died mid-request)


class Balancer:
    """Round-robin over `backends` (ports on 127.0.0.1), listening on `port` (0: a free one, see `.port`)."""

    def __init__(self, backends: list[int], port: int = 0, host: str = "127.0.0.1") -> None:
        self.backends, self.host, self.port = list(backends), host, port
        self.stats = {b: BackendStats() for b in self.backends}
        self.unserved = 0  # connections no backend accepted: closed at once
        self._next = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._server.wait_closed()

    def report(self) -> dict[str, object]:
        return {"port": self.port, "backends": {str(b): asdict(s) for b, s in self.stats.items()},
                "unserved": self.unserved}  # fmt: skip

    async def _connect(self) -> tuple[int, asyncio.StreamReader, asyncio.StreamWriter] | None:
        start, self._next = self._next, (self._next + 1) % len(self.backends)
        for i in range(len(self.backends)):
            backend = self.backends[(start + i) % len(self.backends)]
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, backend), CONNECT_TIMEOUT_S)
            except (OSError, TimeoutError):
                self.stats[backend].failed_over += 1
                continue
            self.stats[backend].served += 1
            return backend, reader, writer
        return None

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            picked = await self._connect()
            if picked is None:
                self.unserved += 1
                return
            backend, server_r, server_w = picked
            sent = [0]
            up = asyncio.create_task(_pipe(client_r, server_w, sent))
            try:
                answered = await _pipe(server_r, client_w, [0])
                if sent[0] and not answered:
                    self.stats[backend].broken += 1
                await up
            finally:
                up.cancel()
                server_w.close()
        except asyncio.CancelledError:
            pass  # close(): the connection ends with the balancer (the streams' callback would log a cancel)
        finally:
            client_w.close()
            self._tasks.discard(task)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, copied: list[int]) -> int:
    """Copy until end of stream, then pass the end on (a half-close), so each side sees what the other did; count
    the bytes in `copied` as they go, and return them. A reset closes the other side at once, and the other pipe
    then ends too."""
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            copied[0] += len(data)
            await writer.drain()
        if writer.can_write_eof() and not writer.is_closing():
            writer.write_eof()
    except OSError:  # a reset, or writing to a peer that is gone
        writer.transport.abort()
    return copied[0]

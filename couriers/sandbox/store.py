"""Persistence of the sandbox courier's parcels in one JSON file, replaced atomically."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import anyio
import anyio.to_thread
import msgspec

from couriers.sandbox.schemas import Shipment


class Store:
    """Every change rewrites the whole file (write a temporary file, fsync, rename), so a crash leaves the old
    state or the new one, never half of either. Concurrent saves share one write (group commit)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = anyio.Lock()
        self._changes = 0  # changes made in memory
        self._saved = 0  # changes on disk

    def load(self) -> list[Shipment]:
        if not self.path.exists():
            return []
        return msgspec.json.decode(self.path.read_bytes(), type=list[Shipment])

    async def save(self, shipments: Mapping[str, Shipment]) -> None:
        """Return once a state including every change made to the live `shipments` before the call is on disk."""
        self._changes += 1
        wanted = self._changes
        async with self._lock:
            if self._saved >= wanted:
                return  # a write that started after our change already carried it
            # Encoding runs on the event loop, between awaits, so it sees one consistent state.
            taken, data = self._changes, msgspec.json.encode(list(shipments.values()))
            await anyio.to_thread.run_sync(_replace, self.path, data)
            self._saved = taken


def _replace(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

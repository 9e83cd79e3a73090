"""Persistence of the sandbox courier's parcels: a snapshot file and a journal of the parcels changed since.

A change appends the changed parcels to the journal (one JSON line each, fsynced), so its cost does not grow with
the parcels the sandbox holds. Rewriting the whole file on every change did: 10% of the embedded server's CPU in
a run of 400 creates (bench/README.md, sync_bench.py), and more with every parcel. When the journal has grown
past the snapshot, the snapshot is written again (a temporary file, fsync, rename) and the journal starts over.

Crash safety:
- the snapshot is replaced atomically: a crash leaves the old one or the new one;
- the snapshot carries a generation, each journal line the generation it follows: lines of an older one (a crash
  after a new snapshot and before the journal was emptied) are what that snapshot already holds, and are skipped;
- a last line cut short by a crash mid-append was never acknowledged: it is cut off at the next load, before
  anything is appended after it; any other line that does not decode is an error.

A snapshot written before the journal existed (a bare JSON list) loads as generation 0.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import anyio
import anyio.to_thread
import msgspec

from couriers.sandbox.schemas import Shipment

COMPACT_MIN_BYTES = 1 << 20  # the journal is folded into the snapshot once past this and past the snapshot's size


class Snapshot(msgspec.Struct):
    generation: int
    shipments: list[Shipment]


class Line(msgspec.Struct):
    generation: int
    shipment: Shipment


class Store:
    """Concurrent saves share one write (group commit)."""

    def __init__(self, path: Path, compact_min_bytes: int = COMPACT_MIN_BYTES) -> None:
        self.path = path
        self.journal = path.with_name(path.name + ".journal")
        self.compact_min_bytes = compact_min_bytes
        self._lock = anyio.Lock()
        self._changes = 0  # changes made in memory
        self._saved = 0  # changes on disk
        self._dirty: dict[str, Shipment] = {}  # changed since the last write, by tracking code
        self._generation = 0
        self._snapshot_bytes = 0
        self._journal_bytes = 0

    def load(self, *, repair: bool = True) -> list[Shipment]:
        """The parcels as saved. `repair`: cut off a last line a crash left half-written (the sandbox's own load,
        before it appends again); a reader beside a running sandbox passes False, and only skips it."""
        shipments: dict[str, Shipment] = {}
        if self.path.exists():
            data = self.path.read_bytes()
            self._snapshot_bytes = len(data)
            snapshot = msgspec.json.decode(data, type=Snapshot | list[Shipment])
            if isinstance(snapshot, Snapshot):
                self._generation, loaded = snapshot.generation, snapshot.shipments
            else:
                loaded = snapshot
            shipments = {s.tracking_code: s for s in loaded}
        if self.journal.exists():
            data = self.journal.read_bytes()
            whole = data[: data.rfind(b"\n") + 1]
            if repair and len(whole) < len(data):  # a last line cut short mid-append, never acknowledged: gone
                os.truncate(self.journal, len(whole))
            self._journal_bytes = len(whole)
            for raw in whole.splitlines():
                line = msgspec.json.decode(raw, type=Line)
                if line.generation == self._generation:
                    shipments[line.shipment.tracking_code] = line.shipment
        return list(shipments.values())

    async def save(self, shipments: Mapping[str, Shipment], changed: Shipment) -> None:
        """Return once a state including `changed`, and every change before the call, is on disk."""
        self._changes += 1
        wanted = self._changes
        self._dirty[changed.tracking_code] = changed
        async with self._lock:
            if self._saved >= wanted:
                return  # a write that started after our change already carried it
            # Encoding runs on the event loop, between awaits, so it sees one consistent state.
            taken, dirty, self._dirty = self._changes, self._dirty, {}
            try:
                if self._journal_bytes > max(self._snapshot_bytes, self.compact_min_bytes):
                    await self._compact(shipments)
                else:
                    lines = b"".join(msgspec.json.encode(Line(self._generation, s)) + b"\n" for s in dirty.values())
                    await anyio.to_thread.run_sync(_append, self.journal, lines)
                    self._journal_bytes += len(lines)
            except BaseException:  # not on disk: the next write takes these changes again
                self._dirty = dirty | self._dirty
                raise
            self._saved = taken

    async def _compact(self, shipments: Mapping[str, Shipment]) -> None:
        """The snapshot replaced by one of the next generation, then the journal emptied: its lines are of the
        generation before, skipped at load whether or not the emptying happens."""
        generation = self._generation + 1
        data = msgspec.json.encode(Snapshot(generation, list(shipments.values())))
        await anyio.to_thread.run_sync(_replace, self.path, data)
        self._generation, self._snapshot_bytes = generation, len(data)  # on disk: what follows is of this one
        await anyio.to_thread.run_sync(_empty, self.journal)
        self._journal_bytes = 0


def _append(path: Path, lines: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Readable by its owner only, as the snapshot (mkstemp) and the database are: recipients' names, phones and
    # addresses.
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab") as file:
        file.write(lines)
        file.flush()
        os.fsync(file.fileno())


def _empty(journal: Path) -> None:
    with journal.open("wb") as file:
        os.fsync(file.fileno())


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
    # The rename itself on disk before the journal is emptied: else a power cut could keep the emptied journal
    # and lose the new snapshot.
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)

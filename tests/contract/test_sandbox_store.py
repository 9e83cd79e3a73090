"""The sandbox courier's parcels on disk: a change costs one journal line, whatever the parcels it holds, and no
crash loses or rolls back an acknowledged change (couriers/sandbox/store.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import msgspec
import pytest

from couriers.sandbox import store as store_module
from couriers.sandbox.schemas import Shipment
from couriers.sandbox.store import Line, Snapshot, Store
from fakes.sandbox import asgi_transport
from tests.contract.test_sandbox import make_courier, make_parcel, make_server

pytestmark = pytest.mark.anyio


def written() -> int:
    """Bytes this process has handed to write() so far (Linux)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    raise AssertionError("no wchar in /proc/self/io")


async def parcels(store_path: Path, count: int, prefix: str = "ORD") -> tuple[list[str], int]:
    """`count` parcels created through the sandbox's API; the tracking codes, and the bytes the last create wrote."""
    server = make_server(store_path)
    codes, last = [], 0
    async with httpx.AsyncClient(transport=asgi_transport(server.app)) as http:
        courier = make_courier(http)
        for n in range(count):
            before = written()
            codes.append((await courier.create(make_parcel(f"{prefix}-{n}"))).tracking_code)
            last = written() - before
    return codes, last


async def test_a_create_writes_about_one_parcel_whatever_the_parcels_held(tmp_path: Path) -> None:
    store = tmp_path / "sandbox" / "parcels.json"
    _, first = await parcels(store, 1)  # one parcel's bytes, and the request's own writes (its log lines)
    _, later = await parcels(tmp_path / "other" / "parcels.json", 150)
    # Before: every change rewrote the whole file, 150 parcels' worth at the 150th create.
    assert later < 2 * first + 4_096, (later, first)


async def test_the_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "parcels.json"
    server = make_server(path)
    server._store = Store(path, compact_min_bytes=500)  # a snapshot after a few parcels
    async with httpx.AsyncClient(transport=asgi_transport(server.app)) as http:
        for n in range(4):
            await make_courier(http).create(make_parcel(f"ORD-{n}"))
    journal = path.with_name("parcels.json.journal")
    assert path.exists() and journal.exists()
    assert (path.stat().st_mode & 0o777, journal.stat().st_mode & 0o777) == (0o600, 0o600)


async def test_parcels_and_their_changes_survive_a_restart_across_compactions(tmp_path: Path) -> None:
    path = tmp_path / "parcels.json"
    server = make_server(path)
    server._store = Store(path, compact_min_bytes=2_000)  # fold the journal in every few changes
    async with httpx.AsyncClient(transport=asgi_transport(server.app)) as http:
        courier = make_courier(http)
        codes = [(await courier.create(make_parcel(f"ORD-{n}"))).tracking_code for n in range(12)]
        for code in codes[::2]:
            await courier.update_recipient(code, make_parcel(recipient_name=f"Chị {code}"))
        await courier.cancel(codes[1])
    assert msgspec.json.decode(path.read_bytes(), type=Snapshot).generation >= 2
    again = {s.tracking_code: s for s in Store(path).load()}
    assert set(again) == set(codes)
    assert all(again[code].recipient_name == f"Chị {code}" for code in codes[::2])
    assert again[codes[1]].status == "cancelled" and again[codes[3]].recipient_name == "Nguyễn Thị Lan"


async def test_a_line_cut_short_by_a_crash_is_dropped_before_the_next_append(tmp_path: Path) -> None:
    path = tmp_path / "parcels.json"
    codes, _ = await parcels(path, 2)
    journal = path.with_name("parcels.json.journal")
    with journal.open("ab") as file:
        file.write(b'{"generation":0,"shipment":{"tracking_')  # the crash, mid-append
    reader = {s.tracking_code for s in Store(path).load(repair=False)}  # a reader beside the sandbox: skips it
    assert reader == set(codes) and not journal.read_bytes().endswith(b"\n")
    more, _ = await parcels(path, 1, "AFTER")  # the sandbox starts again and appends
    assert journal.read_bytes().endswith(b"\n")
    assert {s.tracking_code for s in Store(path).load()} == set(codes) | set(more)


async def test_a_crash_between_the_new_snapshot_and_the_emptied_journal_rolls_nothing_back(tmp_path: Path) -> None:
    path = tmp_path / "parcels.json"
    codes, _ = await parcels(path, 1)
    journal = path.with_name("parcels.json.journal")
    (created,) = Store(path).load()
    cancelled = msgspec.structs.replace(created, status="cancelled")
    # The new snapshot (generation 1) holds the parcel cancelled; the journal still has generation 0's line.
    path.write_bytes(msgspec.json.encode(Snapshot(1, [cancelled])))
    assert msgspec.json.decode(journal.read_bytes().splitlines()[0], type=Line).shipment.status == "created"
    (loaded,) = Store(path).load()
    assert loaded.tracking_code == codes[0] and loaded.status == "cancelled"


async def test_a_file_written_before_the_journal_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "parcels.json"
    codes, _ = await parcels(path, 2)
    shipments = Store(path).load()
    path.write_bytes(msgspec.json.encode(shipments))  # the old format: a bare list, no journal
    path.with_name("parcels.json.journal").unlink()
    store = Store(path)
    assert {s.tracking_code for s in store.load()} == set(codes)
    changed = msgspec.structs.replace(shipments[0], recipient_name="Mai")
    await store.save({s.tracking_code: s for s in [changed, shipments[1]]}, changed)
    assert {s.tracking_code: s.recipient_name for s in Store(path).load()}[changed.tracking_code] == "Mai"


async def test_saves_at_once_share_writes_and_each_change_is_on_disk_when_it_returns(tmp_path: Path) -> None:
    path = tmp_path / "parcels.json"
    await parcels(path, 1)
    (first,) = Store(path).load()
    store = Store(path)
    held: dict[str, Shipment] = {s.tracking_code: s for s in store.load()}
    copies = [msgspec.structs.replace(first, tracking_code=f"SBX{n:06d}", client_code=f"C-{n}") for n in range(20)]

    async def one(shipment: Shipment) -> None:
        held[shipment.tracking_code] = shipment
        await store.save(held, shipment)
        assert shipment.tracking_code in {s.tracking_code for s in Store(path).load(repair=False)}

    lines_before = len(path.with_name("parcels.json.journal").read_bytes().splitlines())
    await asyncio.gather(*(one(s) for s in copies))
    lines = path.with_name("parcels.json.journal").read_bytes().splitlines()
    assert len(lines) - lines_before == 20  # each change once, however the writes were grouped


async def test_a_change_whose_write_failed_goes_with_the_next_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "parcels.json"
    await parcels(path, 2)
    store = Store(path)
    held = {s.tracking_code: s for s in store.load()}
    first, second = (msgspec.structs.replace(s, recipient_name="Mai") for s in held.values())
    real = store_module._append

    def full_disk(journal: Path, lines: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_module, "_append", full_disk)
    held[first.tracking_code] = first
    with pytest.raises(OSError, match="No space"):
        await store.save(held, first)
    monkeypatch.setattr(store_module, "_append", real)
    held[second.tracking_code] = second
    await store.save(held, second)
    assert {s.recipient_name for s in Store(path).load()} == {"Mai"}

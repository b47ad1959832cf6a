"""The result store: round trips, expiry by age and by count, unknown ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from calfsim.errors import RecordNotFoundError
from calfsim.web._db import _ScanRow, _SimulationPartRow, _SimulationRow, open_store


def _add_simulation(store, n: int = 0) -> str:  # type: ignore[no-untyped-def]
    return store.add_simulation(
        calfsim_version="0.1.0",
        model_version="m",
        scan_id=None,
        request={"n": n},
        summary={"n": n},
        glb=b"glb%d" % n,
        glb_parts={"median": b"median%d" % n, "bands": b"bands%d" % n},
    )


def test_round_trip_on_a_sqlite_file(tmp_path: Path) -> None:
    store = open_store(
        f"sqlite:///{tmp_path}/sub/results.sqlite3", ttl_s=3600, max_scans=5, max_simulations=5
    )
    scan_id = store.add_scan(filename="a.obj", units="mm", data=b"v 0 0 0", legs={"legs": {}})
    simulation_id = _add_simulation(store, 7)
    store.close()
    # A new engine on the same file (another process, a restart) sees both.
    again = open_store(
        f"sqlite:///{tmp_path}/sub/results.sqlite3", ttl_s=3600, max_scans=5, max_simulations=5
    )
    scan = again.get_scan(scan_id)
    assert (scan.filename, scan.units, scan.data, scan.legs) == (
        "a.obj",
        "mm",
        b"v 0 0 0",
        {"legs": {}},
    )
    assert scan.created_at.tzinfo is not None
    record = again.get_simulation(simulation_id)
    assert record.summary == {"n": 7} and record.calfsim_version == "0.1.0"
    assert again.get_simulation_glb(simulation_id) == b"glb7"
    again.close()


def test_oldest_beyond_the_count_are_deleted() -> None:
    store = open_store("sqlite://", ttl_s=3600, max_scans=2, max_simulations=3)
    ids = [_add_simulation(store, i) for i in range(5)]
    for old in ids[:2]:
        with pytest.raises(RecordNotFoundError, match="simulation_id"):
            store.get_simulation(old)
    assert [store.get_simulation(i).summary["n"] for i in ids[2:]] == [2, 3, 4]
    scans = [store.add_scan(filename="s.obj", units=None, data=b"x", legs={}) for _ in range(3)]
    with pytest.raises(RecordNotFoundError, match="scan_id"):
        store.get_scan(scans[0])
    assert store.get_scan(scans[2]).filename == "s.obj"


def test_rows_older_than_the_ttl_are_deleted_on_insert() -> None:
    store = open_store("sqlite://", ttl_s=60, max_scans=10, max_simulations=10)
    old_sim = _add_simulation(store, 1)
    old_scan = store.add_scan(filename="s.obj", units=None, data=b"x", legs={})
    two_minutes_ago = datetime.now(UTC) - timedelta(seconds=120)
    with store.engine.begin() as connection:
        connection.execute(update(_SimulationRow).values(created_at=two_minutes_ago))
        connection.execute(update(_ScanRow).values(created_at=two_minutes_ago))
    assert store.get_simulation(old_sim).summary == {"n": 1}  # expiry runs on insert
    new_sim = _add_simulation(store, 2)
    store.add_scan(filename="t.obj", units=None, data=b"y", legs={})
    with pytest.raises(RecordNotFoundError):
        store.get_simulation_glb(old_sim)
    with pytest.raises(RecordNotFoundError):
        store.get_scan(old_scan)
    assert store.get_simulation_glb(new_sim) == b"glb2"


def test_glb_parts_are_kept_and_expire_with_their_simulation() -> None:
    store = open_store("sqlite://", ttl_s=3600, max_scans=2, max_simulations=2)
    ids = [_add_simulation(store, i) for i in range(3)]
    assert store.get_simulation_glb_part(ids[2], "median") == b"median2"
    assert store.get_simulation_glb_part(ids[1], "bands") == b"bands1"
    with pytest.raises(RecordNotFoundError, match="no GLB part 'muscles'"):
        store.get_simulation_glb_part(ids[2], "muscles")
    with pytest.raises(RecordNotFoundError, match="simulation_id"):
        store.get_simulation_glb_part(ids[0], "median")  # the oldest beyond the count
    with store.engine.connect() as connection:
        kept = set(connection.execute(select(_SimulationPartRow.simulation_id)).scalars())
    assert kept == set(ids[1:])

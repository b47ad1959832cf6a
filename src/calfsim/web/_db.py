"""Stored results of the web app: uploaded scans and 3D simulations (SQLAlchemy 2).

The try-on page uploads a scan once and simulates it several times, and fetches a
simulation's GLB after its summary, so both are kept for a while under random ids (no
accounts: knowing the id is the access). Nothing identifies a person: a scan is kept with its
file name and measurements only. Rows expire after ``result_ttl_s`` and beyond a count limit
(oldest first); expiry runs on every insert.

A simulation's GLB is also kept in parts for the try-on page (``simulation_glb_parts``: the
skins with the weekly medians first, the band targets and the x-ray muscles when asked for), in
a table of their own so that databases made before it keep working (``create_all`` adds it).

Every stored simulation records ``calfsim_version`` and ``model_version`` so that a result
shown to someone can be reproduced (STYLE §8).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    LargeBinary,
    String,
    create_engine,
    delete,
    event,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool

from calfsim.errors import RecordNotFoundError

__all__ = ["ResultStore", "ScanRecord", "SimulationRecord", "open_store"]

log = logging.getLogger(__name__)


class _Base(DeclarativeBase):
    pass


class _ScanRow(_Base):
    __tablename__ = "scans"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    units: Mapped[str | None] = mapped_column(String(4))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    legs_json: Mapped[dict[str, Any]] = mapped_column(JSON)


class _SimulationRow(_Base):
    __tablename__ = "simulations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    calfsim_version: Mapped[str] = mapped_column(String(32))
    model_version: Mapped[str] = mapped_column(String(64))
    scan_id: Mapped[str | None] = mapped_column(String(32))
    request_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    glb: Mapped[bytes] = mapped_column(LargeBinary)


class _SimulationPartRow(_Base):
    __tablename__ = "simulation_glb_parts"

    simulation_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    part: Mapped[str] = mapped_column(String(16), primary_key=True)
    glb: Mapped[bytes] = mapped_column(LargeBinary)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanRecord:
    """An uploaded scan: its file (to load again) and its measurement."""

    id: str
    created_at: datetime
    filename: str
    units: str | None
    data: bytes
    legs: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationRecord:
    """A stored 3D simulation (summary only; the GLB is fetched separately)."""

    id: str
    created_at: datetime
    calfsim_version: str
    model_version: str
    scan_id: str | None
    summary: dict[str, Any]


def _new_id() -> str:
    return secrets.token_hex(16)


def _aware(value: datetime) -> datetime:
    # SQLite returns naive datetimes; they were stored in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class ResultStore:
    """Repository of scans and simulations over one SQLAlchemy engine.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    ttl_s : float
        Age after which rows are deleted.
    max_scans, max_simulations : int
        Rows kept at most (oldest deleted first).
    """

    def __init__(
        self, engine: Engine, *, ttl_s: float, max_scans: int, max_simulations: int
    ) -> None:
        self.engine = engine
        self.ttl_s = ttl_s
        self.max_scans = max_scans
        self.max_simulations = max_simulations
        self._session = sessionmaker(engine, expire_on_commit=False)

    def create_tables(self) -> None:
        """Create the tables if they do not exist."""
        _Base.metadata.create_all(self.engine)

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()

    # -- expiry -----------------------------------------------------------------------------

    def _expire(self, session: Session, row: type[_ScanRow | _SimulationRow], keep: int) -> None:
        cutoff = datetime.now(UTC) - timedelta(seconds=self.ttl_s)
        session.execute(delete(row).where(row.created_at < cutoff))
        newest = select(row.id).order_by(row.created_at.desc()).limit(keep)
        session.execute(delete(row).where(row.id.not_in(newest)))

    # -- scans ------------------------------------------------------------------------------

    def add_scan(
        self, *, filename: str, units: str | None, data: bytes, legs: dict[str, Any]
    ) -> str:
        """Store an uploaded scan; return its id."""
        scan_id = _new_id()
        with self._session.begin() as session:
            session.add(
                _ScanRow(
                    id=scan_id,
                    created_at=datetime.now(UTC),
                    filename=filename,
                    units=units,
                    data=data,
                    legs_json=legs,
                )
            )
            session.flush()
            self._expire(session, _ScanRow, self.max_scans)
        return scan_id

    def get_scan(self, scan_id: str) -> ScanRecord:
        """Return a stored scan.

        Raises
        ------
        RecordNotFoundError
            If there is no such scan (never uploaded, or expired).
        """
        with self._session() as session:
            row = session.get(_ScanRow, scan_id)
            if row is None:
                raise RecordNotFoundError(
                    f"scan_id: no scan {scan_id!r} (scans are kept for "
                    f"{self.ttl_s / 3600:g} h); upload it again with POST /api/measure"
                )
            return ScanRecord(
                id=row.id,
                created_at=_aware(row.created_at),
                filename=row.filename,
                units=row.units,
                data=row.data,
                legs=row.legs_json,
            )

    # -- simulations ------------------------------------------------------------------------

    def add_simulation(
        self,
        *,
        calfsim_version: str,
        model_version: str,
        scan_id: str | None,
        request: dict[str, Any],
        summary: dict[str, Any],
        glb: bytes,
        glb_parts: Mapping[str, bytes] | None = None,
    ) -> str:
        """Store a simulation's request, summary, GLB and GLB parts (by name); return its id."""
        simulation_id = _new_id()
        with self._session.begin() as session:
            session.add(
                _SimulationRow(
                    id=simulation_id,
                    created_at=datetime.now(UTC),
                    calfsim_version=calfsim_version,
                    model_version=model_version,
                    scan_id=scan_id,
                    request_json=request,
                    summary_json=summary,
                    glb=glb,
                )
            )
            for part, data in (glb_parts or {}).items():
                session.add(_SimulationPartRow(simulation_id=simulation_id, part=part, glb=data))
            session.flush()
            self._expire(session, _SimulationRow, self.max_simulations)
            kept = select(_SimulationRow.id)
            session.execute(
                delete(_SimulationPartRow).where(_SimulationPartRow.simulation_id.not_in(kept))
            )
        return simulation_id

    def _simulation_row(self, session: Session, simulation_id: str) -> _SimulationRow:
        row = session.get(_SimulationRow, simulation_id)
        if row is None:
            raise RecordNotFoundError(
                f"simulation_id: no simulation {simulation_id!r} (simulations are kept for "
                f"{self.ttl_s / 3600:g} h); run POST /api/simulate again"
            )
        return row

    def get_simulation(self, simulation_id: str) -> SimulationRecord:
        """Return a stored simulation's summary.

        Raises
        ------
        RecordNotFoundError
            If there is no such simulation.
        """
        with self._session() as session:
            row = self._simulation_row(session, simulation_id)
            return SimulationRecord(
                id=row.id,
                created_at=_aware(row.created_at),
                calfsim_version=row.calfsim_version,
                model_version=row.model_version,
                scan_id=row.scan_id,
                summary=row.summary_json,
            )

    def get_simulation_glb(self, simulation_id: str) -> bytes:
        """Return a stored simulation's GLB bytes.

        Raises
        ------
        RecordNotFoundError
            If there is no such simulation.
        """
        with self._session() as session:
            return self._simulation_row(session, simulation_id).glb

    def get_simulation_glb_part(self, simulation_id: str, part: str) -> bytes:
        """Return one stored part of a simulation's GLB (as stored by `add_simulation`).

        Raises
        ------
        RecordNotFoundError
            If there is no such simulation, or it has no such part.
        """
        with self._session() as session:
            row = session.get(_SimulationPartRow, (simulation_id, part))
            if row is None:
                self._simulation_row(session, simulation_id)  # no simulation: says so
                raise RecordNotFoundError(
                    f"part: simulation {simulation_id!r} has no GLB part {part!r}"
                )
            return row.glb


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers (GLB downloads) do not wait for a writer; NORMAL sync is safe with WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def open_store(db_url: str, *, ttl_s: float, max_scans: int, max_simulations: int) -> ResultStore:
    """Create the engine (making the SQLite folder if needed) and the tables.

    Parameters
    ----------
    db_url : str
        SQLAlchemy URL; ``sqlite://`` (in memory) shares one connection across threads.
    ttl_s, max_scans, max_simulations
        See `ResultStore`.

    Returns
    -------
    ResultStore
    """
    url = make_url(db_url)
    kwargs: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        database = url.database
        kwargs["connect_args"] = {"check_same_thread": False}
        if not database or database == ":memory:":
            kwargs["poolclass"] = StaticPool
        else:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        event.listen(engine, "connect", _sqlite_pragmas)
    store = ResultStore(engine, ttl_s=ttl_s, max_scans=max_scans, max_simulations=max_simulations)
    store.create_tables()
    log.info("results database: %s", url.render_as_string(hide_password=True))
    return store

"""Reading body and leg scans (OBJ, PLY, STL, GLB/glTF) into a canonical :class:`ScanMesh`.

The file is checked before any heavy work: its size first, then its face count read from the
header (STL, PLY, glTF) or counted from the text (OBJ, ASCII STL). Only then is it parsed by
trimesh. OBJ files are read group-aware: a MakeHuman export keeps its skin in the group
``body`` next to helper and joint groups, and only ``body`` is used. Vertices are merged (STL
stores none shared), then :func:`calfsim.geometry.orient_scan` recognises units and
orientation.

Every failure is a :class:`~calfsim.errors.MeshError` (or
:class:`~calfsim.errors.InvalidInputError` for a bad ``units``) whose message names the file.
"""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path
from typing import Any

import numpy as np

from calfsim.errors import MeshError
from calfsim.geometry import LegsFound, ScanMesh, orient_scan

__all__ = ["MAX_SCAN_BYTES", "MAX_SCAN_FACES", "SCAN_SUFFIXES", "legs_to_dict", "load_scan"]

#: File types read by :func:`load_scan`, by suffix.
SCAN_SUFFIXES = (".obj", ".ply", ".stl", ".glb", ".gltf")
#: Default limits: a 3 M-triangle body scan is ~150 MB as binary STL; a phone or clinic scan
#: has 10k-1M triangles, and more only costs time and memory without a better girth.
MAX_SCAN_FACES = 3_000_000
MAX_SCAN_BYTES = 300_000_000
#: Name of the skin group in MakeHuman OBJ exports (the others are helpers and joints).
_SKIN_GROUP = "body"
_CHUNK_BYTES = 1 << 24


def _count_token(path: Path, token: bytes) -> int:
    """Occurrences of ``token`` in a file, read in chunks (bounded memory)."""
    count = 0
    tail = b""
    with path.open("rb") as fh:
        while block := fh.read(_CHUNK_BYTES):
            data = tail + block
            count += data.count(token)
            tail = data[-(len(token) - 1) :] if len(token) > 1 else b""
    return count


def _ply_faces(path: Path, name: str) -> int | None:
    with path.open("rb") as fh:
        head = fh.read(65536)
    if not head.startswith(b"ply"):
        raise MeshError(f"{name}: not a PLY file (it does not start with 'ply')")
    end = head.find(b"end_header")
    if end < 0:
        raise MeshError(f"{name}: the PLY header has no end_header in its first 64 kB")
    match = re.search(rb"element\s+face\s+(\d+)", head[:end])
    return int(match.group(1)) if match else 0


def _stl_faces(path: Path, size: int) -> int:
    with path.open("rb") as fh:
        head = fh.read(84)
    if len(head) == 84:
        (n,) = struct.unpack("<I", head[80:84])
        if size == 84 + 50 * n:  # binary STL: a header, a count, 50 bytes per triangle
            return int(n)
    if not head.lstrip().lower().startswith(b"solid"):
        raise MeshError(
            f"{path.name}: not an STL file: neither binary (84 + 50 bytes per triangle; this "
            f"file has {size:,} bytes) nor ASCII (starting with 'solid')"
        )
    return _count_token(path, b"facet")


def _check_text(path: Path, kind: str) -> None:
    """Refuse binary data where a text format is expected (the parser would fail obscurely)."""
    with path.open("rb") as fh:
        head = fh.read(65536)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            raise MeshError(
                f"{path.name}: not an {kind} file: it holds binary data (an {kind} file is "
                "UTF-8 text)"
            ) from None
    if b"\x00" in head:
        raise MeshError(f"{path.name}: not an {kind} file: it holds binary data (NUL bytes)")


def _gltf_json(path: Path, name: str) -> dict[str, Any]:
    raw = path.read_bytes()
    if path.suffix.lower() == ".glb":
        if len(raw) < 20 or raw[:4] != b"glTF":
            raise MeshError(f"{name}: not a GLB file (it does not start with 'glTF')")
        length, kind = struct.unpack("<I4s", raw[12:20])
        if kind != b"JSON":
            raise MeshError(f"{name}: the GLB file has no JSON chunk first")
        raw = raw[20 : 20 + length]
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MeshError(f"{name}: not a glTF file (its JSON does not parse: {exc})") from None
    if not isinstance(doc, dict):
        raise MeshError(f"{name}: not a glTF file (its JSON is not an object)")
    return doc


def _gltf_faces(path: Path, name: str) -> int | None:
    """Triangles declared by the glTF accessors (each mesh once), or None if unreadable."""
    doc = _gltf_json(path, name)
    try:
        accessors = doc.get("accessors", [])
        total = 0
        for mesh in doc.get("meshes", []):
            for prim in mesh.get("primitives", []):
                index = prim.get("indices", prim.get("attributes", {}).get("POSITION"))
                if index is not None:
                    total += int(accessors[index]["count"]) // 3
        return total
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        return None  # malformed: trimesh will refuse it with its own message


def _declared_faces(path: Path, suffix: str, size: int) -> int | None:
    """Face count from the header or a cheap scan of the text; None when not knowable."""
    name = path.name
    if suffix == ".stl":
        return _stl_faces(path, size)
    if suffix == ".ply":
        return _ply_faces(path, name)
    if suffix == ".obj":
        _check_text(path, "OBJ")
        with path.open("rb") as fh:
            first = fh.read(2)
        return _count_token(path, b"\nf ") + (1 if first == b"f " else 0)
    return _gltf_faces(path, name)


def _read(path: Path, suffix: str) -> Any:
    import trimesh

    if suffix == ".obj":
        return trimesh.load(
            path,
            file_type="obj",
            force="scene",
            split_groups=True,
            group_material=False,
            skip_materials=True,
            process=False,
        )
    if suffix in (".glb", ".gltf"):
        return trimesh.load(path, file_type=suffix[1:], force="scene", process=False)
    return trimesh.load(path, file_type=suffix[1:], force="mesh", process=False)


def _parts(loaded: Any, suffix: str) -> tuple[list[Any], str]:
    """Triangle meshes to use and how they were chosen."""
    import trimesh

    if isinstance(loaded, trimesh.Trimesh):
        return [loaded], "all faces of the file"
    if not isinstance(loaded, trimesh.Scene):
        return [], ""
    if suffix == ".obj":
        named = {k: g for k, g in loaded.geometry.items() if isinstance(g, trimesh.Trimesh)}
        skin = [
            g for k, g in named.items() if re.fullmatch(rf"{_SKIN_GROUP}(_\d+)?", k, re.IGNORECASE)
        ]
        if skin and len(named) > len(skin):
            return skin, (
                f"OBJ group '{_SKIN_GROUP}' only: the file has {len(named)} groups and, as in "
                "MakeHuman exports, the others are helpers and joints, not skin"
            )
        groups = f"its {len(named)} OBJ groups" if len(named) > 1 else "all faces of the file"
        return list(named.values()), groups
    meshes = [g for g in loaded.dump() if isinstance(g, trimesh.Trimesh)]
    return meshes, f"all {len(meshes)} meshes of the scene" if len(meshes) > 1 else "its mesh"


def load_scan(
    path: Path | str,
    *,
    units: str | None = None,
    max_faces: int = MAX_SCAN_FACES,
    max_bytes: int = MAX_SCAN_BYTES,
) -> ScanMesh:
    """Read a body or lower-leg scan and return it in the canonical frame.

    Parameters
    ----------
    path : path-like
        An ``.obj`` (group-aware), ``.ply``, ``.stl``, ``.glb`` or ``.gltf`` file.
    units : {"m", "dm", "cm", "mm"}, optional
        Units of the file; recognised from the size of the body when omitted.
    max_faces : int, optional
        Files with more triangles are refused (checked from the header before parsing).
    max_bytes : int, optional
        Larger files are refused before they are read.

    Returns
    -------
    ScanMesh
        Metres, +z up, floor at z = 0, legs along x, the person's left on +x when the front
        is known (see :func:`calfsim.geometry.orient_scan`).

    Raises
    ------
    MeshError
        If the file is missing, empty, too large, has too many faces, is not a mesh of that
        type, holds no triangles, or has no plausible size in any unit. The message names the
        file and, for limits, the value and the limit.
    InvalidInputError
        If ``units`` is not accepted or makes the scan implausibly tall.

    Examples
    --------
    >>> scan = load_scan("tg3d-scan1.obj")  # doctest: +SKIP
    >>> scan.source_units, round(scan.height_m, 2)  # doctest: +SKIP
    ('mm', 1.62)
    """
    path = Path(path)
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in SCAN_SUFFIXES:
        raise MeshError(
            f"{name}: unsupported scan file type {suffix or '(no suffix)'!r}; "
            f"accepted: {', '.join(SCAN_SUFFIXES)}"
        )
    try:
        if not path.is_file():
            raise MeshError(f"{path}: no such file")
        size = path.stat().st_size
        if size == 0:
            raise MeshError(f"{name}: the file is empty")
        if size > max_bytes:
            raise MeshError(
                f"{name}: the file is {size:,} bytes, more than the limit of {max_bytes:,} bytes"
            )
        declared = _declared_faces(path, suffix, size)
    except OSError as exc:
        raise MeshError(f"{name}: cannot read the file ({exc.strerror or exc})") from None
    if declared is not None and declared > max_faces:
        raise MeshError(
            f"{name}: the file declares {declared:,} faces, more than the limit of "
            f"{max_faces:,}; decimate the scan (e.g. to 100k-1M faces) first"
        )
    try:
        loaded = _read(path, suffix)
    except Exception as exc:  # any parser failure of a foreign file becomes one clear error
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise MeshError(
            f"{name}: cannot be read as {suffix[1:].upper()} ({type(exc).__name__}"
            f"{': ' + detail if detail else ''})"
        ) from None
    meshes, parts_reason = _parts(loaded, suffix)
    meshes = [m for m in meshes if len(m.faces) > 0]
    if not meshes:
        kind = suffix[1:].upper()
        raise MeshError(
            f"{name}: not a mesh: the {kind} reader found no triangles in it (only points or "
            f"lines, or the file is not {kind} at all)"
        )
    n_faces = sum(len(m.faces) for m in meshes)
    if n_faces > max_faces:
        raise MeshError(
            f"{name}: {n_faces:,} triangles, more than the limit of {max_faces:,}; decimate "
            "the scan first"
        )
    vertices, faces = _merged(meshes)
    return orient_scan(vertices, faces, units=units, source=name, parts_reason=parts_reason)


def _merged(meshes: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate meshes and merge vertices at the same position (STL shares none)."""
    import trimesh

    offsets = np.cumsum([0] + [len(m.vertices) for m in meshes[:-1]])
    vertices = np.concatenate([np.asarray(m.vertices, dtype=np.float64) for m in meshes])
    faces = np.concatenate(
        [np.asarray(m.faces, dtype=np.int64) + o for m, o in zip(meshes, offsets, strict=True)]
    )
    merged = trimesh.Trimesh(vertices=vertices, faces=faces, process=False)
    merged.remove_unreferenced_vertices()
    merged.merge_vertices(merge_tex=True, merge_norm=True)
    return np.asarray(merged.vertices, dtype=np.float64), np.asarray(merged.faces, dtype=np.int64)


def _rounded(values: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(x) else round(float(x), 2) for x in values]


def _maybe(x: float | None) -> float | None:
    return None if x is None else round(float(x), 2)


def legs_to_dict(scan: ScanMesh, found: LegsFound, *, source: str = "") -> dict[str, Any]:
    """Return the measurement of a scan as JSON-ready data (cm, rounded to 0.01 cm).

    Parameters
    ----------
    scan : ScanMesh
        The loaded scan (for units, orientation and surface facts).
    found : LegsFound
        Its legs, from :func:`calfsim.geometry.find_legs`.
    source : str, optional
        Name of the scan file.

    Returns
    -------
    dict
        ``scan`` facts and reasons, ``warnings``, and ``legs`` keyed by leg name (``left``,
        ``right``, else ``+x``/``-x`` or ``single``); profile girths are null where the section
        does not close.
    """
    return {
        "scan": {
            "source": source,
            "source_units": scan.source_units,
            "height_cm": round(100 * scan.height_m, 1),
            "is_whole_body": found.is_whole_body,
            "is_watertight": scan.is_watertight,
            "n_components": scan.n_components,
            "n_vertices": int(scan.vertices_m.shape[0]),
            "n_faces": int(scan.faces.shape[0]),
            "parts_reason": scan.parts_reason,
            "units_reason": scan.units_reason,
            "up_axis_reason": scan.up_axis_reason,
            "orientation_reason": found.orientation_reason,
        },
        "warnings": list(found.warnings),
        "legs": {
            leg.name: {
                "side": None if leg.side is None else leg.side.value,
                "calf_girth_cm": _maybe(leg.calf_girth_cm),
                "calf_level_cm": _maybe(leg.calf_level_cm),
                "ankle_girth_cm": _maybe(leg.ankle_girth_cm),
                "ankle_level_cm": _maybe(leg.ankle_level_cm),
                "knee_girth_cm": _maybe(leg.knee_girth_cm),
                "knee_level_cm": _maybe(leg.knee_level_cm),
                "lower_leg_length_cm": _maybe(leg.lower_leg_length_cm),
                "axis_tilt_deg": round(
                    float(np.degrees(np.arccos(np.clip(leg.axis_direction[2], -1, 1)))), 1
                ),
                "profile": {
                    "heights_cm": _rounded(leg.profile_heights_cm),
                    "girths_cm": _rounded(leg.profile_girths_cm),
                },
            }
            for leg in found.legs
        },
    }

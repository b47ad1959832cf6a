"""Reading body and leg scans (OBJ, PLY, STL, GLB/glTF) into a canonical :class:`ScanMesh`.

The file is checked before any heavy work: its size first, then its face count read from the
header (STL, PLY, glTF: triangles drawn, counting every node that uses a mesh) or counted from
the text (OBJ, ASCII STL). Only then is it parsed: STL by numpy here (bounded memory), the other
formats by trimesh, which is never asked to read materials or textures. OBJ files are read
group-aware: a MakeHuman export keeps its skin in the group ``body`` next to helper and joint
groups, and only ``body`` is used. Vertices at exactly the same position are merged (STL stores
none shared), then :func:`calfsim.geometry.orient_scan` recognises units and orientation.

Every failure is a :class:`~calfsim.errors.MeshError` (or
:class:`~calfsim.errors.InvalidInputError` for a bad ``units``) whose message names the file.
See docs/scans.md for the limits and the handling of each kind of hostile input.
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

__all__ = [
    "MAX_SCAN_BYTES",
    "MAX_SCAN_FACES",
    "MAX_SCAN_VERTICES",
    "SCAN_SUFFIXES",
    "legs_to_dict",
    "load_scan",
]

#: File types read by :func:`load_scan`, by suffix.
SCAN_SUFFIXES = (".obj", ".ply", ".stl", ".glb", ".gltf")
#: Default limits, checked before parsing. Measured on this project's 2-core CI-class VM
#: (docs/scans.md, "Limits"): a 998k-triangle scan of both legs costs 10-13 s of CPU to read,
#: orient and measure (5.0-7.7 s load, ~5 s legs) and 0.52-0.60 GB of peak memory in binary STL,
#: PLY, OBJ or GLB (an ASCII STL about twice the time); both grow linearly with the triangles.
#: Phone and clinic scans have 10k-1M
#: triangles; more resolution does not change a girth (a 10k-vertex scan already has vertices
#: ~1 cm apart, and the tape is a convex hull), so larger scans are refused with a hint to
#: decimate them.
MAX_SCAN_FACES = 1_000_000
#: Vertices a file may declare (OBJ, PLY, glTF): 3 per triangle when nothing is shared.
MAX_SCAN_VERTICES = 3 * MAX_SCAN_FACES
#: Bytes: an ASCII STL spends ~250-300 bytes per triangle, so ~1M triangles fit.
MAX_SCAN_BYTES = 300_000_000
#: Name of the skin group in MakeHuman OBJ exports (the others are helpers and joints).
_SKIN_GROUP = "body"
#: Files without a header are counted in chunks of this size (bounded memory, few reads).
_CHUNK_BYTES = 1 << 20
#: Text scanned by numpy per step when counting OBJ and ASCII PLY contents (work arrays of
#: ~14 bytes per byte: a 3.5 MB peak; ~9 ms per MB of text).
_STATS_CHUNK_BYTES = 1 << 18
#: Node uses walked in a glTF scene tree before the file is refused (a body scan has a few).
_MAX_GLTF_NODE_VISITS = 100_000


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


def _text_stats(path: Path, offset: int = 0) -> tuple[int, int, int]:
    """Scan a text mesh file in chunks with numpy: what its lines will become.

    Returns ``(triangles, vertex_lines, tokens)``: the triangles of the OBJ face lines
    (``f a b c d ...`` becomes ``n - 2`` triangles, as a fan), the most numerous kind of OBJ
    vertex line (``v``, ``vt`` or ``vn``: the reader keeps each kind in an array), and all
    whitespace-separated tokens after ``offset`` (for ASCII PLY). A polygon line can hide
    thousands of triangles, so counting lines alone would not bound the parsed size. Only lines
    starting exactly with the keyword and a space count: the reader ignores others (indented or
    tab-separated keywords).
    """
    triangles = tokens = 0
    kinds = np.zeros(3, np.int64)  # lines of v, vt, vn
    tail = b""
    with path.open("rb") as fh:
        fh.seek(offset)
        while True:
            block = fh.read(_STATS_CHUNK_BYTES)
            data = tail + block
            cut = data.rfind(b"\n") + 1 if block else len(data)
            data, tail = data[:cut], data[cut:]
            if len(tail) > _CHUNK_BYTES:
                raise MeshError(f"{path.name}: not a text mesh file: a line longer than 1 MB")
            if data:
                if not data.endswith(b"\n"):
                    data += b"\n"
                a = np.frombuffer(data, np.uint8)
                is_blank = (a == 32) | (a == 9) | (a == 10) | (a == 13)
                starts_token = ~is_blank
                starts_token[1:] &= is_blank[:-1]
                ends = np.flatnonzero(a == 10)
                starts = np.r_[0, ends[:-1] + 1]
                below = np.zeros(a.size + 1, np.int32)  # tokens started before each byte
                np.cumsum(starts_token, dtype=np.int32, out=below[1:])
                per_line = below[ends] - below[starts]
                long_enough = ends > starts + 1
                second = a[np.minimum(starts + 1, a.size - 1)]
                third = a[np.minimum(starts + 2, a.size - 1)]
                is_face = long_enough & (a[starts] == ord("f")) & (second == 32)
                is_v = long_enough & (a[starts] == ord("v"))
                kinds[0] += np.count_nonzero(is_v & (second == 32))
                kinds[1] += np.count_nonzero(is_v & (second == ord("t")) & (third == 32))
                kinds[2] += np.count_nonzero(is_v & (second == ord("n")) & (third == 32))
                triangles += int(np.clip(per_line[is_face] - 3, 0, None).sum())
                tokens += int(below[-1])
            if not block:
                break
    return triangles, int(kinds.max()), tokens


#: Bytes of the PLY scalar types.
_PLY_SIZES = {
    b"char": 1, b"int8": 1, b"uchar": 1, b"uint8": 1, b"short": 2, b"int16": 2,
    b"ushort": 2, b"uint16": 2, b"int": 4, b"int32": 4, b"uint": 4, b"uint32": 4,
    b"float": 4, b"float32": 4, b"double": 8, b"float64": 8,
}  # fmt: skip


def _ply_counts(path: Path, name: str, size: int) -> tuple[int, int]:
    """(triangles, vertices) of a PLY: from the header, and for polygon faces from the data.

    A face may list any number of vertices and becomes ``n - 2`` triangles, so the declared
    face count does not bound the triangles. For a binary file the face element's bytes give
    the sum of its list lengths exactly (when the other elements have fixed-size records); for
    an ASCII file the tokens after the header do. When neither can be told, the declared face
    count is returned and the count after parsing is the guard.
    """
    with path.open("rb") as fh:
        head = fh.read(65536)
    if not head.startswith(b"ply"):
        raise MeshError(f"{name}: not a PLY file (it does not start with 'ply')")
    end = head.find(b"end_header")
    if end < 0:
        raise MeshError(f"{name}: the PLY header has no end_header in its first 64 kB")
    body = end + len(b"end_header") + (2 if head[end + 10 : end + 12] == b"\r\n" else 1)
    fmt = b""
    elements: list[tuple[bytes, int, list[list[bytes]]]] = []
    for line in head[:end].splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == b"format":
            fmt = words[1]
        elif len(words) >= 3 and words[0] == b"element" and words[2].isdigit():
            elements.append((words[1], int(words[2]), []))
        elif words[:1] == [b"property"] and elements:
            elements[-1][2].append(words[1:])
    counts = {el_name: n for el_name, n, _ in elements}
    n_faces, n_vertices = counts.get(b"face", 0), counts.get(b"vertex", 0)
    triangles = _ply_triangles(path, elements, fmt, size, body)
    return max(n_faces, triangles if triangles is not None else 0), n_vertices


def _ply_triangles(
    path: Path,
    elements: list[tuple[bytes, int, list[list[bytes]]]],
    fmt: bytes,
    size: int,
    body: int,
) -> int | None:
    """Triangles of the PLY face lists (sum of ``n - 2``), or None when it cannot be told."""
    fixed = 0  # bytes (binary) or tokens (ASCII) of every record but the face lists
    list_items = 0  # count-prefix size (binary) or tokens (ASCII) per face
    item_size = 0
    n_faces = 0
    for el_name, n, props in elements:
        n_lists = sum(1 for prop in props if prop[:1] == [b"list"])
        scalars = [prop for prop in props if prop[:1] != [b"list"]]
        if any(len(prop) < 1 or prop[0] not in _PLY_SIZES for prop in scalars):
            return None
        is_ascii = fmt == b"ascii"
        record = len(scalars) if is_ascii else sum(_PLY_SIZES[prop[0]] for prop in scalars)
        if el_name == b"face" and n_lists == 1:
            (lst,) = [prop for prop in props if prop[:1] == [b"list"]]
            if len(lst) < 3 or lst[1] not in _PLY_SIZES or lst[2] not in _PLY_SIZES:
                return None
            n_faces = n
            list_items = 1 if is_ascii else _PLY_SIZES[lst[1]]
            item_size = 1 if is_ascii else _PLY_SIZES[lst[2]]
            fixed += n * record
        elif n_lists:
            return None
        else:
            fixed += n * record
    if n_faces == 0:
        return None
    if fmt == b"ascii":
        _, _, available = _text_stats(path, body)
    elif fmt in (b"binary_little_endian", b"binary_big_endian"):
        available = size - body
    else:
        return None
    indices = (available - fixed - n_faces * list_items) // item_size
    return max(int(indices) - 2 * n_faces, 0)


def _is_binary_stl(path: Path, size: int) -> int | None:
    """Triangle count of a binary STL (84-byte header + 50 bytes per triangle), else None."""
    with path.open("rb") as fh:
        head = fh.read(84)
    if len(head) == 84:
        (n,) = struct.unpack("<I", head[80:84])
        if size == 84 + 50 * n:
            return int(n)
    return None


def _stl_faces(path: Path, size: int) -> int:
    n = _is_binary_stl(path, size)
    if n is not None:
        return n
    with path.open("rb") as fh:
        head = fh.read(84)
    if not head.lstrip().lower().startswith(b"solid"):
        raise MeshError(
            f"{path.name}: not an STL file: neither binary (84 + 50 bytes per triangle; this "
            f"file has {size:,} bytes) nor ASCII (starting with 'solid')"
        )
    # "endfacet" closes each triangle once ("facet" alone would also match "endfacet").
    return _count_token(path, b"endfacet") + _count_token(path, b"ENDFACET")


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
    """Read the JSON of a .gltf file, or the first chunk of a .glb (not its binary chunk)."""
    with path.open("rb") as fh:
        if path.suffix.lower() != ".glb":
            raw = fh.read()
        else:
            head = fh.read(20)
            if len(head) < 20 or head[:4] != b"glTF":
                raise MeshError(f"{name}: not a GLB file (it does not start with 'glTF')")
            length, kind = struct.unpack("<I4s", head[12:20])
            if kind != b"JSON":
                raise MeshError(f"{name}: the GLB file has no JSON chunk first")
            raw = fh.read(length)  # at most the rest of the file (bounded by max_bytes)
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MeshError(f"{name}: not a glTF file (its JSON does not parse: {exc})") from None
    if not isinstance(doc, dict):
        raise MeshError(f"{name}: not a glTF file (its JSON is not an object)")
    return doc


def _mesh_uses(doc: dict[str, Any], name: str) -> dict[int, int]:
    """How many times each mesh is drawn: nodes of every scene, children included.

    A file may draw one mesh from many nodes (instancing); trimesh then copies it for each,
    so a small file could expand to any number of triangles. The walk stops (and the file is
    refused) past ``_MAX_GLTF_NODE_VISITS`` visits, which also stops cyclic or exponentially
    shared node trees that the glTF specification forbids but a hostile file may hold.
    """
    nodes = doc.get("nodes", [])
    scenes = doc.get("scenes", [])
    roots = [n for scene in scenes for n in scene.get("nodes", [])] if scenes else []
    if not scenes:  # no scene: a reader draws each node once (as trimesh does)
        roots = list(range(len(nodes)))
    uses: dict[int, int] = {}
    stack = list(roots)
    visits = 0
    while stack:
        visits += 1
        if visits > _MAX_GLTF_NODE_VISITS:
            raise MeshError(
                f"{name}: the glTF node tree has more than {_MAX_GLTF_NODE_VISITS:,} node "
                "uses (nodes shared many times, or a cycle); flatten the scene first"
            )
        node = nodes[int(stack.pop())]
        if "mesh" in node:
            mesh = int(node["mesh"])
            uses[mesh] = uses.get(mesh, 0) + 1
        stack.extend(node.get("children", []))
    return uses


def _external_bytes(path: Path, doc: dict[str, Any]) -> int:
    """Bytes of the buffer files a glTF names (``uri`` not ``data:``), found as trimesh does.

    trimesh reads such files only from the scan's folder (a name escaping it is refused), and
    reads each one whole, so their size counts toward the byte limit.
    """
    from urllib.parse import unquote

    folder = path.parent.resolve()
    total = 0
    for buffer in doc.get("buffers", []):
        uri = buffer.get("uri") if isinstance(buffer, dict) else None
        if not isinstance(uri, str) or uri.startswith("data:"):
            continue
        name = unquote(uri).strip()
        for candidate in (name, name.lstrip("/"), Path(name).name):
            target = (folder / candidate).resolve()
            if target.is_relative_to(folder) and target.is_file():
                total += target.stat().st_size
                break
    return total


def _gltf_counts(path: Path, name: str, size: int, max_bytes: int) -> tuple[int | None, int | None]:
    """Triangles and vertices the glTF will draw (each mesh times its uses), or None.

    A mesh that no node uses counts once (a reader may still load it).
    """
    doc = _gltf_json(path, name)
    external = _external_bytes(path, doc)
    if size + external > max_bytes:
        raise MeshError(
            f"{name}: the file and the buffer files it names hold {size + external:,} bytes, "
            f"more than the limit of {max_bytes:,} bytes"
        )
    try:
        accessors = doc.get("accessors", [])
        uses = _mesh_uses(doc, name)  # raises MeshError (not caught below) past the walk limit
        faces = vertices = 0
        for i, mesh in enumerate(doc.get("meshes", [])):
            times = max(uses.get(i, 0), 1)
            for prim in mesh.get("primitives", []):
                attributes = prim.get("attributes", {})
                position = attributes.get("POSITION")
                index = prim.get("indices", position)
                if index is not None:
                    count = int(accessors[index]["count"])
                    # TRIANGLES (4, the default) use 3 indices each; a strip or fan (5, 6) one
                    strip = int(prim.get("mode", 4)) in (5, 6)
                    faces += times * (max(count - 2, 0) if strip else count // 3)
                if position is not None:
                    vertices += times * int(accessors[position]["count"])
        return faces, vertices
    except MeshError:
        raise
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        return None, None  # malformed: trimesh will refuse it with its own message


def _declared_counts(
    path: Path, suffix: str, size: int, max_bytes: int
) -> tuple[int | None, int | None]:
    """(faces, vertices) from the header or a cheap scan of the text; None when not knowable.

    STL stores three vertices per triangle and no shared ones, so only its faces count.
    """
    name = path.name
    if suffix == ".stl":
        return _stl_faces(path, size), None
    if suffix == ".ply":
        return _ply_counts(path, name, size)
    if suffix == ".obj":
        _check_text(path, "OBJ")
        faces, vertices, _ = _text_stats(path)
        return faces, vertices
    return _gltf_counts(path, name, size, max_bytes)


def _read_binary_stl(path: Path, n_faces: int) -> Any:
    """Read a binary STL as one triangle soup with numpy (no per-triangle Python work).

    Measured on a 25 MB, 499k-triangle file (tracemalloc): trimesh's reader peaks at ~9x the
    file size and takes ~1.5 s; this one peaks at ~3x (the records, then float64 corners and
    int64 faces) and takes ~0.06 s.
    """
    import trimesh

    record = np.dtype([("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attr", "<u2")])
    data = np.fromfile(path, dtype=record, count=n_faces, offset=84)
    corners = data["corners"]
    is_finite = np.isfinite(corners).all(axis=(1, 2))
    if not is_finite.all():
        raise MeshError(
            f"{path.name}: {np.count_nonzero(~is_finite):,} of its {n_faces:,} triangles have "
            "NaN or infinite coordinates (a damaged or foreign file)"
        )
    vertices = corners.reshape(-1, 3).astype(np.float64)
    del corners
    del data
    faces = np.arange(vertices.shape[0], dtype=np.int64).reshape(-1, 3)
    return trimesh.Trimesh(vertices=vertices, faces=faces, process=False)


#: One corner of an ASCII STL facet: ``vertex x y z``.
_STL_VERTEX = re.compile(
    rb"^[ \t]*vertex[ \t]+(\S+[ \t]+\S+[ \t]+\S+)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE
)


def _read_ascii_stl(path: Path) -> Any:
    """Read an ASCII STL as one triangle soup, 1 MB of text at a time.

    trimesh's reader holds the whole text and its tokens: ~7x the file size at its peak (870 MB
    for a 131 MB, 499k-triangle file, 10 s of CPU). Here only one chunk's tokens exist at a
    time, and the coordinates as float64 (72 bytes per triangle).
    """
    import trimesh

    blocks: list[np.ndarray] = []
    tail = b""
    with path.open("rb") as fh:
        while True:
            block = fh.read(_CHUNK_BYTES)
            data = tail + block
            cut = data.rfind(b"\n") + 1 if block else len(data)
            data, tail = data[:cut], data[cut:]
            if len(tail) > _CHUNK_BYTES:  # no line end in 1 MB: not text, and avoids O(n^2)
                raise MeshError(f"{path.name}: not an STL file: a line longer than 1 MB")
            corners = _STL_VERTEX.findall(data)
            if corners:  # "x y z" of each corner, parsed by numpy in one call
                blocks.append(np.array(b" ".join(corners).split(), dtype=np.float64))
            if not block:
                break
    vertices = (np.concatenate(blocks) if blocks else np.zeros(0)).reshape(-1, 3)
    if vertices.shape[0] % 3:
        raise MeshError(
            f"{path.name}: not an STL file: {vertices.shape[0]:,} 'vertex' lines, not three "
            "per facet"
        )
    is_finite = np.isfinite(vertices).all(axis=1)
    if not is_finite.all():
        raise MeshError(
            f"{path.name}: {np.count_nonzero(~is_finite):,} vertices have NaN or infinite "
            "coordinates (a damaged or foreign file)"
        )
    faces = np.arange(vertices.shape[0], dtype=np.int64).reshape(-1, 3)
    return trimesh.Trimesh(vertices=vertices, faces=faces, process=False)


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
    # Materials and textures are never needed for girths; skipping them also keeps the reader
    # from opening image files named inside the scan.
    if suffix in (".glb", ".gltf"):
        return trimesh.load(
            path, file_type=suffix[1:], force="scene", process=False, skip_materials=True
        )
    if suffix == ".ply":
        return trimesh.load(path, file_type="ply", force="mesh", process=False, skip_materials=True)
    return trimesh.load(path, file_type=suffix[1:], force="mesh", process=False)


def _parts(loaded: Any, suffix: str, name: str, max_faces: int) -> tuple[list[Any], str]:
    """Triangle meshes to use and how they were chosen.

    A scene keeps each mesh once and draws it at every node that uses it; the triangles drawn
    are counted before the scene is expanded into copies (a second guard after the header
    count of :func:`_mesh_uses`).
    """
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
    drawn = 0
    for node in loaded.graph.nodes_geometry:
        geometry = loaded.geometry.get(loaded.graph[node][1])
        if isinstance(geometry, trimesh.Trimesh):
            drawn += len(geometry.faces)
    if drawn > max_faces:
        raise MeshError(
            f"{name}: its scene draws {drawn:,} triangles, more than the limit of "
            f"{max_faces:,}; decimate the scan first"
        )
    meshes = [g for g in loaded.dump() if isinstance(g, trimesh.Trimesh)]
    return meshes, f"all {len(meshes)} meshes of the scene" if len(meshes) > 1 else "its mesh"


def load_scan(
    path: Path | str,
    *,
    units: str | None = None,
    max_faces: int = MAX_SCAN_FACES,
    max_vertices: int = MAX_SCAN_VERTICES,
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
    max_vertices : int, optional
        OBJ, PLY and glTF files declaring more vertices are refused before parsing.
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
        If the file is missing, empty, too large, has too many faces or vertices, is not a
        mesh of that type, holds no triangles, has too few vertices to measure, or has no
        plausible size in any unit. The message names the file and, for limits, the value
        and the limit.
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
        declared, declared_vertices = _declared_counts(path, suffix, size, max_bytes)
    except OSError as exc:
        raise MeshError(f"{name}: cannot read the file ({exc.strerror or exc})") from None
    for count, limit, what in (
        (declared, max_faces, "faces"),
        (declared_vertices, max_vertices, "vertices"),
    ):
        if count is not None and count > limit:
            kinds = " (its most numerous of v, vt and vn lines)" if suffix == ".obj" else ""
            raise MeshError(
                f"{name}: the file declares {count:,} {what}{kinds if what == 'vertices' else ''}"
                f", more than the limit of {limit:,}; decimate the scan (e.g. to 100k-1M faces) "
                "first"
            )
    n_binary = _is_binary_stl(path, size) if suffix == ".stl" else None
    try:
        if suffix != ".stl":
            loaded = _read(path, suffix)
        elif n_binary is not None:
            loaded = _read_binary_stl(path, n_binary)
        else:
            loaded = _read_ascii_stl(path)
    except MeshError:
        raise
    except Exception as exc:  # any parser failure of a foreign file becomes one clear error
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise MeshError(
            f"{name}: cannot be read as {suffix[1:].upper()} ({type(exc).__name__}"
            f"{': ' + detail if detail else ''})"
        ) from None
    meshes, parts_reason = _parts(loaded, suffix, name, max_faces)
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
    del meshes, loaded
    if np.bincount(faces.ravel(), minlength=vertices.shape[0]).max() <= 1:
        raise MeshError(
            f"{name}: not a surface: none of its {faces.shape[0]:,} triangles shares a vertex "
            "with another (scattered triangles, not a scan)"
        )
    try:
        return orient_scan(vertices, faces, units=units, source=name, parts_reason=parts_reason)
    except MeshError as exc:
        if str(exc).startswith(name):
            raise
        raise MeshError(f"{name}: {exc}") from None


def _merged(meshes: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate meshes and merge vertices at exactly the same position.

    STL shares no vertices, and OBJ readers split a vertex where its texture coordinates or
    normals differ; both repeat the exact same coordinates, so exact equality merges them
    (-0.0 equals 0.0). Unreferenced vertices are dropped later by ``orient_scan``. A sort of
    the coordinates; on a 499k-triangle soup (1.5M vertices) it peaks at 97 MB in 2.1 s where
    ``trimesh.Trimesh.merge_vertices`` needs 191 MB and 6.2 s (tracemalloc, loaded VM).
    """
    offsets = np.cumsum([0] + [len(m.vertices) for m in meshes[:-1]])
    vertices = np.concatenate([np.asarray(m.vertices, dtype=np.float64) for m in meshes])
    faces = np.concatenate(
        [np.asarray(m.faces, dtype=np.int64) + o for m, o in zip(meshes, offsets, strict=True)]
    )
    order = np.lexsort((vertices[:, 2], vertices[:, 1], vertices[:, 0]))
    ordered = vertices[order]
    del vertices
    is_new = np.ones(ordered.shape[0], dtype=np.bool_)
    is_new[1:] = np.any(ordered[1:] != ordered[:-1], axis=1)
    new_index = np.empty(order.shape[0], dtype=np.int64)
    new_index[order] = np.cumsum(is_new) - 1
    return np.ascontiguousarray(ordered[is_new]), new_index[faces]


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

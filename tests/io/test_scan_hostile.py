"""Malformed and hostile scan files: each is refused with a clear error, or handled as documented.

Every case of issue 4 ("empty, not a mesh, no legs, a single leg, a non-watertight scan, 2
million faces, wrong units") and a few more found while writing these tests (a declared-huge
header, a glTF that draws one mesh many times, a buffer file outside the scan's folder,
scattered triangles, NaN coordinates). docs/scans.md has the table of what happens to each.

Memory is checked with ``tracemalloc`` (numpy reports its buffers to it) or with the peak RSS of
a fresh subprocess; nothing here asserts on time. The large files are sparse (``truncate``):
their size is real for the reader's checks but they cost no disk and no time to write.

The human-like legs are the anatomy model's meshes (:func:`calfsim.geometry.build_leg_mesh`),
a lower-leg "scan" 0.55 m tall, in metres, +z up, the person facing -y, the left leg on +x.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from calfsim.anatomy import build_leg_anatomy
from calfsim.domain import LegMeasurements, Patient, Side
from calfsim.errors import InvalidInputError, MeshError
from calfsim.geometry import build_leg_mesh, find_legs
from calfsim.io import MAX_SCAN_BYTES, MAX_SCAN_FACES, MAX_SCAN_VERTICES, load_scan
from calfsim.io._scan import _merged, _parts, _read_ascii_stl

CALF_GIRTH_CM = 36.3
N_AROUND = 48  # ~9.4k vertices per leg
#: Refusing a file from its header or size reads at most 64 kB of it, or 1 MB chunks of a text
#: file being counted; 2 MB leaves room for Python's own bookkeeping.
HEADER_REFUSAL_PEAK_BYTES = 2 * 2**20
#: Peak memory of reading and measuring an accepted scan, per triangle (measured: ~0.6 kB on a
#: 1M-triangle scan, ~1 kB at 37k triangles where fixed costs weigh more). Bounded at 1.5 kB so
#: that the default limit of 1M triangles stays under ~1.5 GB.
ACCEPTED_PEAK_BYTES_PER_FACE = 1500


# --- synthetic scans ----------------------------------------------------------------------------


def _leg(side: Side) -> trimesh.Trimesh:
    anatomy = build_leg_anatomy(LegMeasurements(calf_girth_cm=CALF_GIRTH_CM), Patient(), side=side)
    mesh = build_leg_mesh(anatomy, n_around=N_AROUND)
    return trimesh.Trimesh(mesh.vertices_m, mesh.faces, process=False)


@pytest.fixture(scope="module")
def legs() -> dict[Side, trimesh.Trimesh]:
    return {side: _leg(side) for side in Side}


@pytest.fixture(scope="module")
def pair(legs: dict[Side, trimesh.Trimesh]) -> trimesh.Trimesh:
    """Both lower legs, 0.55 m tall, in metres (watertight)."""
    return trimesh.util.concatenate([legs[Side.LEFT], legs[Side.RIGHT]])


def torso() -> trimesh.Trimesh:
    """A box from just above the knees to 1.70 m: with the legs, a person of human height."""
    box = trimesh.creation.box(extents=(0.40, 0.24, 1.17))
    box.apply_translation((0.0, 0.0, 0.535 + 1.17 / 2))
    return box


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, bytes], Path]:
    def _write(name: str, data: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return _write


def export(mesh: trimesh.Trimesh, path: Path, *, scale: float = 1.0) -> Path:
    scaled = mesh.copy()
    scaled.apply_scale(scale)
    scaled.export(path)
    return path


def sparse(path: Path, head: bytes, size: int) -> Path:
    """A file of ``size`` bytes that starts with ``head`` and costs no disk (a sparse file)."""
    with path.open("wb") as fh:
        fh.write(head)
        fh.truncate(size)
    return path


def binary_ply_header(n_vertices: int, n_faces: int) -> bytes:
    return (
        "ply\nformat binary_little_endian 1.0\n"
        f"element vertex {n_vertices}\nproperty float x\nproperty float y\nproperty float z\n"
        f"element face {n_faces}\nproperty list uchar int vertex_indices\nend_header\n"
    ).encode()


def glb_bytes(
    vertices: np.ndarray,
    faces: np.ndarray,
    *,
    n_nodes: int = 1,
    edit: Callable[[dict], None] | None = None,
) -> bytes:
    """A GLB with one mesh drawn by ``n_nodes`` nodes (written here, not by trimesh)."""
    vb = np.asarray(vertices, np.float32).tobytes()
    fb = np.asarray(faces, np.uint32).tobytes()
    doc: dict = {
        "asset": {"version": "2.0"},
        "scene": 0,
        "scenes": [{"nodes": list(range(n_nodes))}],
        "nodes": [{"mesh": 0, "translation": [0.001 * k, 0.0, 0.0]} for k in range(n_nodes)],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
        "buffers": [{"byteLength": len(vb) + len(fb)}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": len(vb)},
            {"buffer": 0, "byteOffset": len(vb), "byteLength": len(fb)},
        ],
        "accessors": [
            {
                "bufferView": 0,
                "componentType": 5126,
                "count": len(vertices),
                "type": "VEC3",
                "min": np.min(vertices, axis=0).tolist(),
                "max": np.max(vertices, axis=0).tolist(),
            },
            {
                "bufferView": 1,
                "componentType": 5125,
                "count": int(np.size(faces)),
                "type": "SCALAR",
            },
        ],
    }
    if edit is not None:
        edit(doc)
    js = json.dumps(doc).encode()
    js += b" " * (-len(js) % 4)
    binary = vb + fb
    binary += b"\0" * (-len(binary) % 4)
    chunks = struct.pack("<I4s", len(js), b"JSON") + js
    chunks += struct.pack("<I4s", len(binary), b"BIN\0") + binary
    return struct.pack("<4sII", b"glTF", 2, 12 + len(chunks)) + chunks


def jpeg_bytes() -> bytes:
    rng = np.random.default_rng(0)
    out = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(out, "JPEG")
    return out.getvalue()


class Peak:
    """Peak traced memory (bytes) of the block, as seen by tracemalloc."""

    bytes: int = 0


@pytest.fixture
def traced() -> Iterator[Peak]:
    peak = Peak()
    tracemalloc.start()
    try:
        yield peak
    finally:
        peak.bytes = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


def refused_within(
    path: Path, match: str, limit_bytes: int = HEADER_REFUSAL_PEAK_BYTES, **kwargs
) -> str:
    """Load ``path``, expect a MeshError matching ``match``; check the peak traced memory."""
    tracemalloc.start()
    try:
        with pytest.raises(MeshError, match=match) as info:
            load_scan(path, **kwargs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < limit_bytes, f"{path.name}: peak {peak:,} bytes while refusing it"
    message = str(info.value)
    assert message.startswith(path.name), message  # every message names the file
    return message


# --- empty, missing, not a mesh -----------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".obj", ".stl", ".ply", ".glb", ".gltf"])
def test_empty_file(write, suffix):
    refused_within(write(f"scan{suffix}", b""), r"the file is empty")


def test_missing_file(tmp_path):
    with pytest.raises(MeshError, match=r"no such file"):
        load_scan(tmp_path / "nowhere.obj")


@pytest.mark.parametrize("name", ["photo.jpg", "scan.fbx", "scan"])
def test_unsupported_file_type_names_the_accepted_ones(write, name):
    message = refused_within(write(name, b"x" * 100), r"unsupported scan file type")
    assert ".obj, .ply, .stl, .glb, .gltf" in message


NOT_A_MESH = {
    # (suffix, what the bytes are) -> the message
    (".obj", "random"): r"not an OBJ file: it holds binary data",
    (".obj", "jpeg"): r"not an OBJ file: it holds binary data",
    (".obj", "text"): r"not a mesh: the OBJ reader found no triangles",
    (".stl", "random"): r"not an STL file: neither binary .* nor ASCII",
    (".stl", "jpeg"): r"not an STL file: neither binary .* nor ASCII",
    (".stl", "text"): r"not an STL file: neither binary .* nor ASCII",
    (".ply", "random"): r"not a PLY file \(it does not start with 'ply'\)",
    (".ply", "jpeg"): r"not a PLY file",
    (".ply", "text"): r"not a PLY file",
    (".glb", "random"): r"not a GLB file \(it does not start with 'glTF'\)",
    (".glb", "jpeg"): r"not a GLB file",
    (".glb", "text"): r"not a GLB file",
    (".gltf", "random"): r"not a glTF file \(its JSON does not parse",
    (".gltf", "jpeg"): r"not a glTF file \(its JSON does not parse",
    (".gltf", "text"): r"not a glTF file \(its JSON does not parse",
}


@pytest.mark.parametrize(("suffix", "kind"), list(NOT_A_MESH))
def test_not_a_mesh(write, suffix, kind):
    data = {
        "random": np.random.default_rng(1).bytes(5000),
        "jpeg": jpeg_bytes(),
        "text": b"Lorem ipsum dolor sit amet,\nconsectetur adipiscing elit.\n" * 20,
    }[kind]
    refused_within(write(f"{kind}{suffix}", data), NOT_A_MESH[suffix, kind])


@pytest.mark.parametrize(
    ("name", "data", "match"),
    [
        ("points.ply", b"ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\n"
         b"property float y\nproperty float z\nend_header\n0 0 0\n1 0 0\n0 1 0\n",
         r"not a mesh: the PLY reader found no triangles"),
        ("lines.obj", b"v 0 0 0\nv 1 0 0\nl 1 2\n", r"not a mesh: the OBJ reader found no"),
        ("bad_index.obj", b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 999\n", r"cannot be read as OBJ"),
        ("no_header_end.ply", b"ply\nformat ascii 1.0\n" + b"comment x\n" * 7000,
         r"the PLY header has no end_header in its first 64 kB"),
        ("json_list.gltf", b"[1, 2, 3]", r"not a glTF file \(its JSON is not an object\)"),
        ("bin_first.glb", b"glTF" + struct.pack("<II", 2, 40) + struct.pack("<I4s", 8, b"BIN\0")
         + b"\0" * 20, r"the GLB file has no JSON chunk first"),
    ],
)  # fmt: skip
def test_malformed_files(write, name, data, match):
    refused_within(write(name, data), match)


def test_truncated_files_of_a_real_scan(tmp_path, pair):
    """The first half of a valid file: the header promises more than there is."""
    for suffix, match in (
        (".ply", r"cannot be read as PLY"),
        (".glb", r"cannot be read as GLB"),
        (".stl", r"not an STL file: neither binary \(84 \+ 50 bytes per triangle; this file"),
    ):
        whole = export(pair, tmp_path / f"whole{suffix}")
        data = whole.read_bytes()
        cut = tmp_path / f"half{suffix}"
        cut.write_bytes(data[: len(data) // 2])
        refused_within(cut, match, limit_bytes=50_000_000)


def test_scattered_triangles_are_not_a_surface(write):
    """A valid binary STL of 2,000 random triangles: nothing to cut into loops."""
    rng = np.random.default_rng(2)
    n = 2000
    records = np.zeros(
        n, dtype=[("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attr", "<u2")]
    )
    records["corners"] = rng.uniform(0, 1700, size=(n, 3, 3))
    path = write("soup.stl", b"\0" * 80 + struct.pack("<I", n) + records.tobytes())
    refused_within(
        path, r"not a surface: none of its 2,000 triangles shares a vertex", limit_bytes=10**7
    )


def test_random_bits_in_a_binary_stl_are_refused_for_their_nan(write):
    """Random float32 bits include NaN and infinities; the reader says so before using them."""
    rng = np.random.default_rng(3)
    n = 2000
    head = b"\0" * 80 + struct.pack("<I", n)
    path = write("bits.stl", head + rng.bytes(50 * n))
    refused_within(path, r"of its 2,000 triangles have NaN or infinite coordinates", 10**7)


def test_nan_vertex_in_an_obj(tmp_path, pair):
    path = export(pair, tmp_path / "legs.obj")
    lines = path.read_text().splitlines()
    first_vertex = next(i for i, line in enumerate(lines) if line.startswith("v "))
    lines[first_vertex] = "v nan 0.1 0.2"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(MeshError, match=r"legs.obj: vertices contain NaN or infinite"):
        load_scan(path)


# --- limits: sizes, counts, declared-huge headers -------------------------------------------------


def test_two_million_faces_binary_stl_is_refused_from_its_header(tmp_path):
    n = 2_000_000
    path = sparse(tmp_path / "big.stl", b"\0" * 80 + struct.pack("<I", n), 84 + 50 * n)
    assert path.stat().st_size == 100_000_084
    message = refused_within(path, r"the file declares 2,000,000 faces, more than the limit")
    assert f"{MAX_SCAN_FACES:,}" in message and "decimate" in message


def test_two_million_faces_binary_ply_is_refused_from_its_header(tmp_path):
    n_faces, n_vertices = 2_000_000, 1_000_002
    head = binary_ply_header(n_vertices, n_faces)
    path = sparse(tmp_path / "big.ply", head, len(head) + 12 * n_vertices + 13 * n_faces)
    refused_within(path, r"declares 2,000,000 faces, more than the limit of 1,000,000")


def test_two_million_faces_obj_is_counted_in_bounded_memory(tmp_path):
    """OBJ has no header: the faces are counted in 1 MB chunks, not parsed."""
    path = tmp_path / "big.obj"
    path.write_bytes(b"v 0 0 0\nv 1 0 0\nv 0 1 0\n" + b"f 1 2 3\n" * 2_000_000)
    refused_within(path, r"declares 2,000,000 faces", limit_bytes=4 * 2**20)


def test_obj_polygons_are_counted_as_their_triangles(write):
    """1,100 face lines of 1,000 corners each: 1.1k lines, but 1,097,800 triangles once split."""
    line = b"f " + b" ".join(b"%d" % (1 + k % 3) for k in range(1000)) + b"\n"
    path = write("polygons.obj", b"v 0 0 0\nv 1 0 0\nv 0 1 0\n" + line * 1100)
    refused_within(path, r"declares 1,097,800 faces", limit_bytes=4 * 2**20)


def test_binary_ply_polygons_are_counted_from_the_face_bytes(write):
    """4,000 faces of 255 corners: the header says 4,000, the face bytes say 1,012,000."""
    n_faces, corners = 4000, 255
    face = struct.pack("<B", corners) + struct.pack(
        f"<{corners}i", *(k % 3 for k in range(corners))
    )
    vertices = struct.pack("<9f", 0, 0, 0, 1, 0, 0, 0, 1, 0)
    path = write("polygons.ply", binary_ply_header(3, n_faces) + vertices + face * n_faces)
    refused_within(path, r"declares 1,012,000 faces, more than the limit of 1,000,000")


def test_ascii_ply_polygons_are_counted_from_the_tokens(write):
    head = (
        b"ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
        b"property float z\nelement face 10\nproperty list uchar int vertex_indices\nend_header\n"
    )
    face = b"200 " + b" ".join(b"%d" % (k % 3) for k in range(200)) + b"\n"
    path = write("polygons.ply", head + b"0 0 0\n1 0 0\n0 1 0\n" + face * 10)
    refused_within(path, r"declares 1,980 faces, more than the limit of 1,000", max_faces=1000)


def test_quads_count_two_triangles_each(write):
    quads_obj = b"v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\n" + b"f 1 2 3 4\n" * 600
    refused_within(write("quads.obj", quads_obj), r"declares 1,200 faces", max_faces=1199)
    quad = struct.pack("<B4i", 4, 0, 1, 2, 3)
    verts = struct.pack("<12f", 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0)
    path = write("quads.ply", binary_ply_header(4, 600) + verts + quad * 600)
    refused_within(path, r"declares 1,200 faces", max_faces=1199)


def test_large_ascii_stl_is_refused_by_its_size_before_reading(tmp_path):
    path = sparse(tmp_path / "big.stl", b"solid big\n", MAX_SCAN_BYTES + 1)
    refused_within(path, rf"the file is {MAX_SCAN_BYTES + 1:,} bytes, more than the limit")


@pytest.mark.parametrize(
    ("n_vertices", "n_faces", "match"),
    [
        (3, 10**9, r"declares 1,000,000,000 faces"),
        (10**9, 1, r"declares 1,000,000,000 vertices, more than the limit of 3,000,000"),
    ],
)
def test_declared_huge_ply_header_with_a_tiny_body_is_refused_instantly(
    write, n_vertices, n_faces, match
):
    body = struct.pack("<9f", 0, 0, 0, 1, 0, 0, 0, 1, 0) + struct.pack("<B3i", 3, 0, 1, 2)
    path = write("liar.ply", binary_ply_header(n_vertices, n_faces) + body)
    refused_within(path, match)


def test_declared_huge_glb_accessor_is_refused_instantly(write, pair):
    def lie(doc: dict) -> None:
        doc["accessors"][1]["count"] = 3 * 10**9

    path = write("liar.glb", glb_bytes(pair.vertices, pair.faces, edit=lie))
    refused_within(path, r"declares 1,000,000,000 faces")


def test_glb_triangle_strip_counts_one_triangle_per_index(write, pair):
    """A strip of n indices makes n - 2 triangles, three times what n // 3 would say."""

    def strip(doc: dict) -> None:
        doc["meshes"][0]["primitives"][0]["mode"] = 5

    path = write("strip.glb", glb_bytes(pair.vertices, pair.faces, edit=strip))
    n = 3 * len(pair.faces)
    refused_within(path, rf"declares {n - 2:,} faces", max_faces=n - 3)


def test_glb_drawing_one_mesh_from_many_nodes_is_counted_per_use(write, pair):
    """Instancing: 200 nodes draw the 37k-triangle mesh, 7.5M triangles from a 0.5 MB file."""
    path = write("instanced.glb", glb_bytes(pair.vertices, pair.faces, n_nodes=200))
    assert path.stat().st_size < 1_000_000
    refused_within(path, rf"declares {200 * len(pair.faces):,} faces")


def test_glb_node_tree_shared_exponentially_is_refused(write, pair):
    """Each of 30 nodes lists the next one twice: 2**30 uses of the mesh."""

    def nest(doc: dict) -> None:
        doc["nodes"] = [{"children": [k + 1, k + 1]} for k in range(30)] + [{"mesh": 0}]
        doc["scenes"] = [{"nodes": [0]}]

    path = write("nested.glb", glb_bytes(pair.vertices, pair.faces, edit=nest))
    refused_within(path, r"the glTF node tree has more than 100,000 node uses")


def test_scene_drawing_more_than_the_limit_is_refused_before_it_is_expanded(pair):
    """The second guard, on the loaded scene, for counts the header could not give."""
    scene = trimesh.Scene()
    scene.add_geometry(pair, geom_name="legs", node_name="n0")
    for k in (1, 2):  # two more nodes drawing the same geometry
        scene.graph.update(frame_from=scene.graph.base_frame, frame_to=f"n{k}", geometry="legs")
    assert len(scene.geometry) == 1 and len(scene.graph.nodes_geometry) == 3
    with pytest.raises(MeshError, match=r"legs.glb: its scene draws 112,320 triangles"):
        _parts(scene, ".glb", "legs.glb", 100_000)
    meshes, reason = _parts(scene, ".glb", "legs.glb", MAX_SCAN_FACES)
    assert len(meshes) == 3 and reason == "all 3 meshes of the scene"


def test_gltf_buffer_outside_the_folder_is_not_read(tmp_path, pair):
    """A buffer named /dev/zero would never end; trimesh reads only inside the scan's folder."""

    def point_away(doc: dict) -> None:
        doc["buffers"][0]["uri"] = "/dev/zero"

    glb = glb_bytes(pair.vertices, pair.faces, edit=point_away)
    (length,) = struct.unpack("<I", glb[12:16])
    path = tmp_path / "away.gltf"
    path.write_bytes(glb[20 : 20 + length])
    refused_within(path, r"away.gltf: cannot be read as GLTF", limit_bytes=10**7)


def test_gltf_buffer_files_count_toward_the_byte_limit(tmp_path, pair):
    def external(doc: dict) -> None:
        doc["buffers"][0]["uri"] = "legs.bin"

    glb = glb_bytes(pair.vertices, pair.faces, edit=external)
    (length,) = struct.unpack("<I", glb[12:16])
    path = tmp_path / "legs.gltf"
    path.write_bytes(glb[20 : 20 + length])
    sparse(tmp_path / "legs.bin", b"", MAX_SCAN_BYTES)
    refused_within(path, r"the file and the buffer files it names hold .* more than the limit")


def test_material_and_texture_files_named_in_a_scan_are_never_opened(tmp_path, pair):
    """An OBJ ``mtllib`` and a PLY ``TextureFile`` naming a 200 MB file next to the scan (read
    whole, it would show in the peak memory) or /dev/zero (endless) are ignored."""
    sparse(tmp_path / "big.bin", b"", 200 * 2**20)
    obj = export(pair, tmp_path / "legs.obj")
    obj.write_bytes(b"mtllib big.bin\nmtllib /dev/zero\nusemtl skin\n" + obj.read_bytes())
    ply = export(pair, tmp_path / "legs.ply")
    data = ply.read_bytes()
    after_format = data.index(b"\n", data.index(b"format")) + 1  # the format line stays second
    ply.write_bytes(data[:after_format] + b"comment TextureFile big.bin\n" + data[after_format:])
    for path in (obj, ply):
        tracemalloc.start()
        try:
            scan = load_scan(path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert scan.faces.shape[0] == len(pair.faces)
        assert peak < 100 * 2**20


def test_vertex_limit_applies_to_obj(tmp_path, pair):
    path = export(pair, tmp_path / "legs.obj")
    n = len(pair.vertices)
    refused_within(
        path,
        rf"declares {n:,} vertices \(its most numerous of v, vt and vn lines\), more than the "
        rf"limit of {n - 1:,}",
        limit_bytes=4 * 2**20,
        max_vertices=n - 1,
    )
    assert MAX_SCAN_VERTICES == 3 * MAX_SCAN_FACES


def test_obj_normals_count_toward_the_vertex_limit(write):
    """3.1M vertex normals and one triangle: trimesh would hold them all (~6.6x the text)."""
    head = b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n"
    path = write("normals.obj", head + b"vn 0 0 1\n" * 3_100_000)
    refused_within(
        path,
        r"declares 3,100,000 vertices \(its most numerous of v, vt and vn lines\), more than",
        limit_bytes=4 * 2**20,
    )


def test_ascii_stl_faces_are_counted_once(tmp_path, pair):
    path = tmp_path / "legs.stl"
    path.write_text(trimesh.exchange.stl.export_stl_ascii(pair))
    n = len(pair.faces)
    scan = load_scan(path, max_faces=n)  # exactly at the limit: accepted
    assert scan.faces.shape[0] == n
    refused_within(path, rf"declares {n:,} faces", limit_bytes=4 * 2**20, max_faces=n - 1)


def test_memory_of_refusing_two_million_faces_in_a_fresh_process(tmp_path):
    """Peak RSS of a new interpreter that refuses the 100 MB STL, minus its peak after imports."""
    n = 2_000_000
    path = sparse(tmp_path / "big.stl", b"\0" * 80 + struct.pack("<I", n), 84 + 50 * n)
    code = (
        "import resource, sys\n"
        "from calfsim.errors import MeshError\n"
        "from calfsim.io import load_scan\n"
        "import trimesh, scipy.sparse\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        "    load_scan(sys.argv[1])\n"
        "except MeshError as exc:\n"
        "    print(str(exc)[:40])\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(after - before)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out[0].startswith("big.stl: the file declares")
    assert int(out[1]) < 5_000  # kB of RSS growth: the file is never read


def test_memory_of_an_accepted_scan_per_triangle(tmp_path):
    """Reading and measuring a 150k-triangle binary STL in a fresh process: peak RSS growth per
    triangle, the figure that justifies ``MAX_SCAN_FACES`` (docs/scans.md)."""
    code = (
        "import resource, sys\n"
        "import trimesh\n"
        "from calfsim.anatomy import build_leg_anatomy\n"
        "from calfsim.domain import LegMeasurements, Patient, Side\n"
        "from calfsim.geometry import build_leg_mesh, find_legs\n"
        "from calfsim.io import load_scan\n"
        "parts = []\n"
        "for side in Side:\n"
        "    a = build_leg_anatomy(LegMeasurements(calf_girth_cm=36.3), Patient(), side=side)\n"
        "    m = build_leg_mesh(a, n_around=192)\n"
        "    parts.append(trimesh.Trimesh(m.vertices_m * 1000, m.faces, process=False))\n"
        "trimesh.util.concatenate(parts).export(sys.argv[1])\n"
        "del parts, m, a\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "scan = load_scan(sys.argv[1])\n"
        "found = find_legs(scan)\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(scan.faces.shape[0], after - before, round(found.legs[0].calf_girth_cm, 2))\n"
    )
    path = tmp_path / "legs.stl"
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    ).stdout.split()
    n_faces, growth_kb, calf_cm = int(out[0]), int(out[1]), float(out[2])
    assert n_faces > 140_000
    assert calf_cm == pytest.approx(CALF_GIRTH_CM, abs=0.05)
    assert 1024 * growth_kb / n_faces < ACCEPTED_PEAK_BYTES_PER_FACE


# --- the numpy binary-STL reader and the sort-based vertex merge ---------------------------------


def test_binary_stl_reader_matches_trimesh(tmp_path, pair):
    path = export(pair, tmp_path / "legs.stl")
    ours = load_scan(path)
    theirs = trimesh.load(path, file_type="stl", process=False)
    theirs.merge_vertices()
    assert ours.vertices_m.shape == theirs.vertices.shape == pair.vertices.shape
    assert ours.faces.shape == theirs.faces.shape
    # Same surface: the canonical vertices map back to trimesh's, to float rounding.
    back = trimesh.transform_points(ours.vertices_m, np.linalg.inv(ours.to_canonical))
    theirs_v = np.asarray(theirs.vertices)

    def rows(v: np.ndarray) -> np.ndarray:
        return v[np.lexsort(np.round(v, 6).T[::-1])]

    np.testing.assert_allclose(rows(back), rows(theirs_v), atol=1e-6)
    # and the same triangles, as sets of corner positions
    ours_tri = np.sort(np.round(back[ours.faces], 6).reshape(-1, 9), axis=0)
    theirs_tri = np.sort(np.round(theirs_v[theirs.faces], 6).reshape(-1, 9), axis=0)
    np.testing.assert_allclose(ours_tri, theirs_tri, atol=1e-6)


def test_ascii_stl_reader_matches_trimesh(tmp_path, pair):
    path = tmp_path / "legs.stl"
    path.write_text(trimesh.exchange.stl.export_stl_ascii(pair))
    ours = _read_ascii_stl(path)
    theirs = trimesh.load(path, file_type="stl", process=False)
    np.testing.assert_array_equal(ours.vertices[ours.faces], theirs.vertices[theirs.faces])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 0 1\n"
            "endloop\nendfacet\nendsolid x\n",
            r"not an STL file: 2 'vertex' lines, not three per facet",
        ),
        (
            "solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 nan\nvertex 1 0 0\n"
            "vertex 0 1 0\nendloop\nendfacet\nendsolid x\n",
            r"1 vertices have NaN or infinite coordinates",
        ),
        (
            "solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 zero\nvertex 1 0 0\n"
            "vertex 0 1 0\nendloop\nendfacet\nendsolid x\n",
            r"cannot be read as STL \(ValueError",
        ),
        ("solid " + "x" * (2**20 + 10), r"not an STL file: a line longer than 1 MB"),
    ],
)
def test_malformed_ascii_stl(write, text, match):
    refused_within(write("bad.stl", text.encode()), match, limit_bytes=8 * 2**20)


def test_merge_joins_exact_copies_only():
    a = trimesh.Trimesh(
        [[0.0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, 1, 2]], process=False
    )  # three corners
    b = trimesh.Trimesh(
        [[-0.0, 0, 0], [0, 1, 0], [1, 1, 1e-12]], [[0, 1, 2]], process=False
    )  # -0.0 is 0.0; 1e-12 away is another point
    vertices, faces = _merged([a, b])
    assert vertices.shape == (4, 3)
    assert faces[0, 0] == faces[1, 0] and faces[0, 2] == faces[1, 1]
    np.testing.assert_array_equal(
        vertices[faces], np.stack([a.vertices[a.faces[0]], [[0, 0, 0], [0, 1, 0], [1, 1, 1e-12]]])
    )


# --- no legs, one leg -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "match"),
    [
        ("sphere", r"found one leg / legs not separated: .* show 1 loop .*feet apart"),
        ("box", r"found one leg / legs not separated"),
        ("pillar", r"found one leg / legs not separated"),
        ("two_pillars", r"not a human leg: its calf girth would be 1\d\d\.\d cm .* \[20, 70\] cm"),
        ("two_rods", r"no legs found: no section between .* has a loop of at least 6 cm"),
    ],
)
def test_human_height_shapes_without_legs(tmp_path, shape, match):
    """1.70 m tall, in millimetres like a scanner: the units are recognised, legs are not."""
    if shape == "sphere":
        mesh = trimesh.creation.icosphere(subdivisions=4, radius=0.85)
    elif shape == "box":
        mesh = trimesh.creation.box(extents=(0.5, 0.3, 1.7)).subdivide().subdivide().subdivide()
    elif shape == "pillar":
        mesh = trimesh.creation.cylinder(radius=0.15, height=1.7, sections=64)
    elif shape == "two_pillars":  # two columns 1.1 m around, joined by a slab at the top
        mesh = trimesh.util.concatenate(
            [
                trimesh.creation.cylinder(radius=0.18, height=1.7, sections=64).apply_translation(
                    (x, 0, 0)
                )
                for x in (-0.25, 0.25)
            ]
        )
    else:  # two 1 cm rods under a box: far too thin for legs
        rods = [
            trimesh.creation.cylinder(radius=0.005, height=0.7, sections=32).apply_translation(
                (x, 0, 0.35 - 0.85)
            )
            for x in (-0.1, 0.1)
        ]
        body = trimesh.creation.box(extents=(0.4, 0.24, 1.0)).apply_translation((0, 0, 0.35))
        mesh = trimesh.util.concatenate([*rods, body])
    path = export(mesh, tmp_path / f"{shape}.stl", scale=1000.0)
    scan = load_scan(path)
    assert scan.source_units == "mm" and scan.height_m == pytest.approx(1.7, abs=0.01)
    with pytest.raises(MeshError, match=match):
        find_legs(scan)


def test_single_lower_leg_is_measured_with_its_side_unknown(tmp_path, legs):
    path = export(legs[Side.LEFT], tmp_path / "left.ply")
    found = find_legs(load_scan(path))
    (leg,) = found.legs
    assert leg.name == "single" and leg.side is None
    assert "a single leg cannot be named left or right" in found.orientation_reason
    assert leg.calf_girth_cm == pytest.approx(CALF_GIRTH_CM, abs=0.05)


def test_single_lower_leg_in_cm_keeps_the_longest_axis_up(tmp_path, legs):
    """One unit per scan: the leg's 12.6 cm width is not read as a 1.26 m person in dm."""
    scan = load_scan(export(legs[Side.LEFT], tmp_path / "left_cm.ply", scale=100.0))
    assert scan.source_units == "cm" and scan.height_m == pytest.approx(0.55, abs=0.01)
    (leg,) = find_legs(scan).legs
    assert leg.calf_girth_cm == pytest.approx(CALF_GIRTH_CM, abs=0.05)


def test_lower_legs_without_feet_are_measured_with_a_warning(tmp_path):
    """Documented limitation: levels are heights above the lowest point. Cut at the ankle, the
    model's legs start 6.4 cm higher, the calf window reaches the thigh stump above the knee,
    and the reported "calf" is the stump's 38.7 cm instead of 36.3 cm: a warning says why."""
    parts = []
    for side in Side:
        anatomy = build_leg_anatomy(
            LegMeasurements(calf_girth_cm=CALF_GIRTH_CM), Patient(), side=side
        )
        mesh = build_leg_mesh(anatomy, n_around=N_AROUND, with_foot=False)
        parts.append(trimesh.Trimesh(mesh.vertices_m, mesh.faces, process=False))
    found = find_legs(load_scan(export(trimesh.util.concatenate(parts), tmp_path / "cut.ply")))
    (note,) = [w for w in found.warnings if w.startswith("no feet at the bottom")]
    assert "0.78x the hull area" in note and "may reach above the knee" in note
    assert found.legs[0].calf_girth_cm == pytest.approx(38.7, abs=0.1)


def test_lower_legs_with_feet_have_no_feet_warning(pair):
    from calfsim.geometry import orient_scan

    found = find_legs(orient_scan(pair.vertices, pair.faces))
    assert not any(w.startswith("no feet") for w in found.warnings)


def test_whole_body_with_one_leg_is_refused(tmp_path, legs):
    body = trimesh.util.concatenate([legs[Side.LEFT], torso()])
    scan = load_scan(export(body, tmp_path / "one_leg.obj"))
    assert scan.is_whole_body
    with pytest.raises(MeshError, match=r"found one leg / legs not separated: .* show 1 loop"):
        find_legs(scan)


def test_whole_body_with_two_legs_names_them_from_the_feet(tmp_path, pair):
    body = trimesh.util.concatenate([pair, torso()])
    found = find_legs(load_scan(export(body, tmp_path / "person.glb")))
    assert [leg.name for leg in found.legs] == ["left", "right"]
    assert "toes point forward" in found.orientation_reason
    for leg in found.legs:
        assert leg.calf_girth_cm == pytest.approx(CALF_GIRTH_CM, abs=0.05)


# --- holes ----------------------------------------------------------------------------------------


def _without(mesh: trimesh.Trimesh, drop: np.ndarray) -> trimesh.Trimesh:
    return trimesh.Trimesh(mesh.vertices, mesh.faces[~drop], process=False)


@pytest.fixture(scope="module")
def intact(pair: trimesh.Trimesh):
    from calfsim.geometry import orient_scan

    return find_legs(orient_scan(pair.vertices, pair.faces))


def test_small_hole_at_the_calf_leaves_out_two_levels_and_still_measures(tmp_path, pair, intact):
    """A 1 cm high hole on the back of the left calf, at its level: the sections through it
    do not close and are left out; the calf is taken at the next closed level (5 mm lower)."""
    level_m = intact.leg(Side.LEFT).calf_level_cm / 100
    c = pair.triangles_center
    drop = (np.abs(c[:, 2] - level_m) < 0.005) & (c[:, 0] > 0) & (c[:, 1] > 0.03)
    found = find_legs(load_scan(export(_without(pair, drop), tmp_path / "hole.ply")))
    left = found.leg(Side.LEFT)
    assert left.n_open_levels == 2
    assert np.isnan(left.profile_girths_cm).sum() == 2
    assert any("not watertight" in w for w in found.warnings)
    assert any("2 of" in w and "do not close and are left out" in w for w in found.warnings)
    assert left.calf_girth_cm == pytest.approx(intact.leg(Side.LEFT).calf_girth_cm, abs=0.05)
    assert found.leg(Side.RIGHT).n_open_levels == 0


def test_open_top_of_a_lower_leg_scan_is_measured(tmp_path, pair, intact):
    """Lower-leg scanners leave the cut above the knee open: every section still closes."""
    drop = pair.triangles_center[:, 2] > 0.50
    found = find_legs(load_scan(export(_without(pair, drop), tmp_path / "open.stl")))
    for side in Side:
        assert found.leg(side).n_open_levels == 0
        assert found.leg(side).calf_girth_cm == pytest.approx(
            intact.leg(side).calf_girth_cm, abs=0.05
        )
    assert any("not watertight" in w for w in found.warnings)


def test_hole_along_the_whole_calf_is_refused(tmp_path, pair):
    c = pair.triangles_center
    drop = (c[:, 2] > 0.08) & (c[:, 2] < 0.50) & (c[:, 0] > 0) & (c[:, 1] > 0.03)
    scan = load_scan(export(_without(pair, drop), tmp_path / "torn.obj"))
    assert not scan.is_watertight
    with pytest.raises(
        MeshError, match=r"left leg: no closed section between \d+ and \d+ cm .* \(the surface"
    ):
        find_legs(scan)


# --- units ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("unit", "scale"), [("m", 1.0), ("dm", 10.0), ("cm", 100.0), ("mm", 1e3)])
def test_units_of_a_file_are_recognised(tmp_path, pair, unit, scale):
    scan = load_scan(export(pair, tmp_path / f"legs_{unit}.stl", scale=scale))
    assert scan.source_units == unit
    for leg in find_legs(scan).legs:
        assert leg.calf_girth_cm == pytest.approx(CALF_GIRTH_CM, abs=0.05)


def test_a_body_in_mm_declared_in_metres(tmp_path, pair):
    body = trimesh.util.concatenate([pair, torso()])
    path = export(body, tmp_path / "person.stl", scale=1000.0)
    with pytest.raises(InvalidInputError, match=r"units='m' makes person.stl 1,70\d m tall") as e:
        load_scan(path, units="m")
    assert "from its size the file looks like it is in mm" in str(e.value)
    assert e.value.field == "units"


def test_unknown_units_name_the_accepted_ones(tmp_path, pair):
    path = export(pair, tmp_path / "legs.stl")
    with pytest.raises(InvalidInputError, match=r"units must be one of m, dm, cm, mm; got 'in'"):
        load_scan(path, units="in")


@pytest.mark.parametrize(("scale", "what"), [(0.01, "tiny"), (1e5, "huge")])
def test_tiny_or_huge_body_has_no_plausible_unit(tmp_path, pair, scale, what):
    body = trimesh.util.concatenate([pair, torso()])
    path = export(body, tmp_path / f"{what}.stl", scale=scale)
    message = refused_within(
        path, r"cannot recognise the units of .*: its longest axis", limit_bytes=10**8
    )
    assert "give the units explicitly" in message


def test_a_figurine_in_mm_reads_as_a_person_in_cm_unless_units_are_given(tmp_path, pair):
    """Documented ambiguity: 17 cm in mm and 1.7 m in cm are the same numbers."""
    body = trimesh.util.concatenate([pair, torso()])
    path = export(body, tmp_path / "figurine.stl", scale=100.0)  # 170 "units"
    assert load_scan(path).source_units == "cm"
    with pytest.raises(InvalidInputError, match=r"units='mm' makes figurine.stl 0.17\d m tall"):
        load_scan(path, units="mm")

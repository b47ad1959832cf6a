"""GLB with a time axis: Khronos-valid, names kept in order, shapes read back exactly."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pygltflib
import pytest
import trimesh

from calfsim.errors import InvalidInputError, MeshError
from calfsim.io import GlbNode, read_glb, read_glb_morph_names, write_glb
from calfsim.io._glb import subset_glb

REPO = Path(__file__).parents[2]
VALIDATOR_SCRIPT = REPO / "tools" / "validate_gltf.mjs"
VALIDATOR_PACKAGE = REPO / "node_modules" / "gltf-validator" / "package.json"
NODE = shutil.which("node")

#: Half a normalized-int16 step (m): the largest rounding error of a quantized position delta.
HALF_STEP_M = 0.5 / 32767
#: float32 spacing near 0.3 m is 3e-8 m; base and delta each round once.
FLOAT32_TOL_M = 1e-7


def _validator_skip_reason() -> str | None:
    if NODE is None:
        return "node is not installed: the Khronos glTF validator (npm gltf-validator) cannot run"
    if not VALIDATOR_PACKAGE.is_file():
        return "node_modules/gltf-validator is absent: run `npm ci` at the repo root (make test)"
    return None


needs_validator = pytest.mark.skipif(
    _validator_skip_reason() is not None, reason=_validator_skip_reason() or ""
)


def _target_names() -> list[str]:
    weekly = [f"day_{7 * week:03d}_median" for week in range(53)]
    bands = [f"day_{day:03d}_{band}" for day in (28, 84, 182, 364) for band in ("p10", "p90")]
    return weekly + bands


def _targets(vertices: np.ndarray, names: list[str]) -> list[tuple[str, np.ndarray]]:
    """Shapes that exercise every storage path: no change, partial change, and all vertices."""
    out = []
    z = vertices[:, 2]
    upper = np.clip((z - z.min()) / np.ptp(z) * 2 - 0.6, 0, 1)  # the lower ~30 % never moves
    for i, name in enumerate(names):
        shape = vertices.copy()
        if name.endswith("p90"):
            shape *= 0.98  # every vertex moves: the dense path
        elif i > 0:  # day 0 equals the base: an all-zero target
            shrink = 0.08 * (1 - np.exp(-i / 8))
            shape[:, :2] *= (1 - shrink * upper)[:, None]
        out.append((name, shape))
    return out


@pytest.fixture(scope="module")
def nodes() -> list[GlbNode]:
    names = _target_names()
    leg = trimesh.creation.cylinder(radius=0.06, height=0.4, sections=96)
    leg.vertices += (0.1, 0.0, 0.2)
    muscle = trimesh.creation.icosphere(subdivisions=4, radius=0.035)
    muscle.vertices += (0.1, 0.02, 0.3)
    return [
        GlbNode(
            name="left_skin",
            vertices_m=leg.vertices,
            faces=leg.faces,
            morph_targets=_targets(leg.vertices, names),
            color_rgba=(0.93, 0.78, 0.68, 1.0),
        ),
        GlbNode(
            name="left_gm_medial",
            vertices_m=muscle.vertices,
            faces=muscle.faces,
            morph_targets=_targets(muscle.vertices, names),
            color_rgba=(0.8, 0.25, 0.25, 0.45),
            is_visible=False,
        ),
    ]


def _validate(path: Path) -> dict:
    result = subprocess.run(
        [NODE or "node", str(VALIDATOR_SCRIPT), str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


@needs_validator
@pytest.mark.parametrize(
    ("is_quantized", "has_morph_normals"), [(True, False), (True, True), (False, True)]
)
def test_khronos_validator_reports_no_errors_and_no_warnings(
    nodes, tmp_path, is_quantized, has_morph_normals
):
    path = write_glb(
        tmp_path / "legs.glb",
        nodes,
        is_quantized=is_quantized,
        has_morph_normals=has_morph_normals,
    )
    report = _validate(path)
    issues = report["issues"]
    messages = json.dumps(issues["messages"][:10], indent=1)
    assert issues["numErrors"] == 0, messages
    assert issues["numWarnings"] == 0, messages
    assert issues["numInfos"] == 0, messages
    assert report["info"]["totalVertexCount"] == sum(len(n.vertices_m) for n in nodes)
    assert report["info"]["hasMorphTargets"] is True
    if is_quantized:
        assert report["info"]["extensionsUsed"] == ["KHR_mesh_quantization"]


def test_target_names_are_kept_in_order(nodes, tmp_path):
    path = write_glb(tmp_path / "legs.glb", nodes)
    names = read_glb_morph_names(path)
    assert names == {node.name: _target_names() for node in nodes}
    assert len(names["left_skin"]) == 61


def _decode(gltf: pygltflib.GLTF2, blob: bytes, index: int) -> np.ndarray:
    """An independent decoder of the accessor layouts write_glb uses (dense, sparse, none)."""
    dtypes = {5120: np.int8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
    accessor = gltf.accessors[index]
    dtype = np.dtype(dtypes[accessor.componentType])
    values = np.zeros((accessor.count, 3))
    if accessor.bufferView is not None:
        view = gltf.bufferViews[accessor.bufferView]
        stride = (view.byteStride or 3 * dtype.itemsize) // dtype.itemsize
        raw = np.frombuffer(blob, dtype, view.byteLength // dtype.itemsize, view.byteOffset)
        values[:] = raw.reshape(-1, stride)[:, :3]
    if accessor.sparse is not None:
        sparse = accessor.sparse
        iview = gltf.bufferViews[sparse.indices.bufferView]
        vview = gltf.bufferViews[sparse.values.bufferView]
        where = np.frombuffer(
            blob, dtypes[sparse.indices.componentType], sparse.count, iview.byteOffset
        )
        values[where] = np.frombuffer(blob, dtype, 3 * sparse.count, vview.byteOffset).reshape(
            -1, 3
        )
    if accessor.normalized:
        values = np.maximum(values / np.iinfo(dtype).max, -1.0)
    return values


@pytest.mark.parametrize(("is_quantized", "tol_m"), [(True, HALF_STEP_M), (False, FLOAT32_TOL_M)])
def test_round_trip_through_pygltflib(nodes, tmp_path, is_quantized, tol_m):
    path = write_glb(tmp_path / "legs.glb", nodes, is_quantized=is_quantized)
    gltf = pygltflib.GLTF2().load(str(path))
    blob = gltf.binary_blob()
    assert len(blob) % 4 == 0
    assert all(view.byteOffset % 4 == 0 for view in gltf.bufferViews)
    by_name = {node.name: node for node in gltf.nodes}
    for node in nodes:
        mesh = gltf.meshes[by_name[node.name].mesh]
        primitive = mesh.primitives[0]
        assert mesh.extras["targetNames"] == list(node.target_names)
        assert mesh.weights == [0.0] * len(node.morph_targets)
        base = _decode(gltf, blob, primitive.attributes.POSITION)
        assert base.shape == node.vertices_m.shape
        np.testing.assert_allclose(base, node.vertices_m, atol=FLOAT32_TOL_M)
        normals = _decode(gltf, blob, primitive.attributes.NORMAL)
        np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-6)
        for i in (0, 12, 52, 60):  # unchanged, partial, last weekly, all vertices (p90)
            target = primitive.targets[i]
            position = target["POSITION"] if isinstance(target, dict) else target.POSITION
            moved = base + _decode(gltf, blob, position)
            np.testing.assert_allclose(moved, node.morph_targets[i][1], atol=tol_m + 1e-7)


def test_inner_mesh_is_see_through_and_hidden(nodes, tmp_path):
    gltf = pygltflib.GLTF2().load(str(write_glb(tmp_path / "legs.glb", nodes)))
    by_name = {node.name: node for node in gltf.nodes}
    inner = by_name["left_gm_medial"]
    material = gltf.materials[gltf.meshes[inner.mesh].primitives[0].material]
    assert material.alphaMode == "BLEND"
    assert material.pbrMetallicRoughness.baseColorFactor[3] == pytest.approx(0.45)
    assert inner.extras == {"visible": False}
    skin = gltf.materials[gltf.meshes[by_name["left_skin"].mesh].primitives[0].material]
    assert skin.alphaMode in (None, "OPAQUE")
    root = gltf.nodes[gltf.scenes[gltf.scene].nodes[0]]
    assert root.rotation == pytest.approx([-(0.5**0.5), 0, 0, 0.5**0.5])  # +Z up -> glTF +Y up


def test_trimesh_reads_the_base_meshes(nodes, tmp_path):
    path = write_glb(tmp_path / "legs.glb", nodes)
    scene = trimesh.load(path, force="scene", process=False)
    loaded = {
        geometry.metadata.get("name", key): geometry for key, geometry in scene.geometry.items()
    }
    assert len(loaded) == 2
    vertex_counts = sorted(len(geometry.vertices) for geometry in loaded.values())
    assert vertex_counts == sorted(len(node.vertices_m) for node in nodes)
    skin = next(g for g in loaded.values() if len(g.vertices) == len(nodes[0].vertices_m))
    np.testing.assert_allclose(skin.vertices, nodes[0].vertices_m, atol=FLOAT32_TOL_M)
    np.testing.assert_array_equal(skin.faces, nodes[0].faces)


def test_read_glb_returns_the_nodes(nodes, tmp_path):
    back = read_glb(write_glb(tmp_path / "legs.glb", nodes, is_quantized=False))
    assert [node.name for node in back] == [node.name for node in nodes]
    for written, read in zip(nodes, back, strict=True):
        assert read.target_names == written.target_names
        assert read.is_visible == written.is_visible
        assert read.color_rgba == pytest.approx(written.color_rgba)
        np.testing.assert_array_equal(read.faces, written.faces)
        for (_, expected), (_, got) in zip(written.morph_targets, read.morph_targets, strict=True):
            np.testing.assert_allclose(got, expected, atol=FLOAT32_TOL_M)


def test_sparse_targets_store_only_moving_vertices(tmp_path):
    """A target moving 1 vertex in 10 costs ~1/10 of a dense one (sparse accessors)."""
    sphere = trimesh.creation.icosphere(subdivisions=5, radius=0.05)  # 10,242 vertices
    n = len(sphere.vertices)
    moving = np.arange(n) % 10 == 0
    targets = []
    for i in range(20):
        shape = sphere.vertices.copy()
        shape[moving] *= 1 - 0.002 * (i + 1)
        targets.append((f"t{i}", shape))
    node = GlbNode(name="s", vertices_m=sphere.vertices, faces=sphere.faces, morph_targets=targets)
    base_only = write_glb(
        tmp_path / "base.glb", [GlbNode(name="s", vertices_m=sphere.vertices, faces=sphere.faces)]
    )
    with_targets = write_glb(tmp_path / "targets.glb", [node])
    per_target = (with_targets.stat().st_size - base_only.stat().st_size) / 20
    dense_quantized = n * 8  # int16 VEC3 padded to 8 bytes per vertex
    assert per_target < 0.15 * dense_quantized
    float_file = write_glb(tmp_path / "float.glb", [node], is_quantized=False)
    assert float_file.stat().st_size > with_targets.stat().st_size


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": ""}, "name"),
        ({"vertices_m": np.zeros((4, 2))}, None),
        ({"vertices_m": np.full((4, 3), np.nan)}, None),
        ({"faces": np.array([[0, 1, 9]])}, "faces"),
        ({"faces": np.array([[0.0, 1.0, 2.0]])}, "faces"),
        ({"morph_targets": [("a", np.zeros((3, 3)))]}, None),
        ({"morph_targets": [("a", np.zeros((4, 3))), ("a", np.zeros((4, 3)))]}, "morph_targets[1]"),
        ({"morph_targets": [("", np.zeros((4, 3)))]}, "morph_targets[0]"),
        ({"color_rgba": (1.0, 0.5, 0.5)}, "color_rgba"),
        ({"color_rgba": (1.0, 0.5, 0.5, 2.0)}, "color_rgba"),
    ],
)
def test_invalid_nodes_are_refused_with_the_field_named(kwargs, field):
    args = {"name": "n", "vertices_m": np.eye(4, 3), "faces": np.array([[0, 1, 2], [0, 2, 3]])}
    args.update(kwargs)
    with pytest.raises(InvalidInputError) as info:
        GlbNode(**args)
    if field is not None:
        assert info.value.field == field


def test_node_arrays_are_read_only_copies():
    vertices = np.eye(3)
    node = GlbNode(name="n", vertices_m=vertices, faces=np.array([[0, 1, 2]]))
    vertices[0, 0] = 5.0
    assert node.vertices_m[0, 0] == 1.0
    with pytest.raises(ValueError, match="read-only"):
        node.vertices_m[0, 0] = 2.0


def test_write_glb_refuses_bad_node_lists(tmp_path):
    node = GlbNode(name="n", vertices_m=np.eye(3), faces=np.array([[0, 1, 2]]))
    with pytest.raises(InvalidInputError, match="non-empty"):
        write_glb(tmp_path / "x.glb", [])
    with pytest.raises(InvalidInputError, match="unique"):
        write_glb(tmp_path / "x.glb", [node, node])
    with pytest.raises(InvalidInputError, match="up_axis"):
        write_glb(tmp_path / "x.glb", [node], up_axis="x")  # type: ignore[arg-type]


def test_reading_a_missing_foreign_or_truncated_file(nodes, tmp_path):
    with pytest.raises(InvalidInputError, match="no such"):
        read_glb(tmp_path / "absent.glb")
    junk = tmp_path / "junk.glb"
    junk.write_bytes(b"this is not a glb file at all")
    with pytest.raises(MeshError, match="not a GLB"):
        read_glb_morph_names(junk)
    data = write_glb(tmp_path / "legs.glb", nodes).read_bytes()
    for cut in (30, 200, len(data) - 7):
        junk.write_bytes(data[:cut])
        with pytest.raises(MeshError):
            read_glb(junk)


# -- parts of a file (subset_glb) ---------------------------------------------------------------


def _is_median(name: str) -> bool:
    return name.endswith("_median")


def _parts(whole: bytes) -> dict[str, bytes]:
    return {
        "median": subset_glb(whole, node_names=["left_skin"], keep_target=_is_median),
        "bands": subset_glb(
            whole, node_names=["left_skin"], keep_target=lambda name: not _is_median(name)
        ),
        "muscles": subset_glb(whole, node_names=["left_gm_medial"]),
    }


@needs_validator
@pytest.mark.parametrize("is_quantized", [True, False])
def test_parts_are_valid_files_of_their_own(nodes, tmp_path, is_quantized):
    whole = write_glb(tmp_path / "legs.glb", nodes, is_quantized=is_quantized).read_bytes()
    for name, data in _parts(whole).items():
        path = tmp_path / f"{name}.glb"
        path.write_bytes(data)
        report = _validate(path)
        issues = report["issues"]
        messages = json.dumps(issues["messages"][:10], indent=1)
        assert issues["numErrors"] == 0, (name, messages)
        assert issues["numWarnings"] == 0, (name, messages)
        assert issues["numInfos"] == 0, (name, messages)
        used = report["info"].get("extensionsUsed", [])
        assert used == (["KHR_mesh_quantization"] if is_quantized else []), name


def test_parts_hold_the_same_shapes_byte_for_byte(nodes, tmp_path):
    whole_path = write_glb(tmp_path / "legs.glb", nodes)
    whole = {node.name: node for node in read_glb(whole_path)}
    parts = _parts(whole_path.read_bytes())
    expected = {
        "median": ("left_skin", [n for n in _target_names() if _is_median(n)]),
        "bands": ("left_skin", [n for n in _target_names() if not _is_median(n)]),
        "muscles": ("left_gm_medial", _target_names()),
    }
    for name, data in parts.items():
        path = tmp_path / f"{name}.glb"
        path.write_bytes(data)
        (node,) = read_glb(path)
        node_name, target_names = expected[name]
        assert node.name == node_name
        assert list(node.target_names) == target_names  # the file's order
        source = whole[node_name]
        assert np.array_equal(node.vertices_m, source.vertices_m)
        assert np.array_equal(node.faces, source.faces)
        assert node.color_rgba == source.color_rgba
        assert node.is_visible == source.is_visible
        shapes = dict(source.morph_targets)
        for target_name, shape in node.morph_targets:
            assert np.array_equal(shape, shapes[target_name]), target_name
        root = pygltflib.GLTF2().load(str(path))
        assert root.nodes[0].rotation == pytest.approx([-(0.5**0.5), 0, 0, 0.5**0.5])
    # The first part leaves out the band targets and the muscle: well under the whole file.
    assert len(parts["median"]) < whole_path.stat().st_size - len(parts["muscles"])


def test_subset_glb_refuses_unknown_nodes_and_foreign_bytes(nodes, tmp_path):
    whole = write_glb(tmp_path / "legs.glb", nodes).read_bytes()
    with pytest.raises(InvalidInputError, match="node_names"):
        subset_glb(whole, node_names=["right_skin"])
    with pytest.raises(MeshError, match="not a GLB"):
        subset_glb(b"this is not a glb file at all", node_names=["left_skin"])
    with pytest.raises(MeshError):
        subset_glb(whole[:200], node_names=["left_skin"])

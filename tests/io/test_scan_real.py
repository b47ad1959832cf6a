"""The real scans of ``../shared/assets/scans``: load, units, both legs, and girths checked
against an independent plane cut written here.

The assets (never copied into the repository) are two whole-body scans of women from a TG3D
body scanner (millimetres, +Y up, about 10k vertices each) and the MakeHuman base mesh
(decimetres, +Y up, skin in the OBJ group ``body``); see ``../shared/assets/README.md``. The
tests are skipped when that folder is absent.

The independent measurement shares nothing with ``calfsim`` but the reported level and leg
axis: the OBJ is parsed here (``v``/``f``/``g`` lines, polygons fanned into triangles), moved
to the canonical frame with the scan's ``to_canonical`` transform, cut with
``trimesh.intersections.mesh_plane``, the segments are joined into loops by their shared end
points, the loop nearest the leg axis is kept and its 2D convex-hull perimeter
(``scipy.spatial.ConvexHull``) is the girth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import trimesh
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull, cKDTree

from calfsim.domain import Side
from calfsim.geometry import LegMeasurement, LegsFound, ScanMesh, find_legs
from calfsim.io import load_scan

ASSETS = Path(__file__).resolve().parents[2].parent / "shared" / "assets" / "scans"

#: (file, units stated by the asset README, OBJ group holding the skin or None for all faces)
SCANS = {
    "tg3d-scan1.obj": ("mm", None),
    "tg3d-scan2.obj": ("mm", None),
    "makehuman-base.obj": ("dm", "body"),
}
#: ANSUR II (2012) women: calf 37.3 ± 2.9 cm, ankle 21.6 ± 1.5 cm; men calf 39.2 ± 3.0 cm.
#: A real adult lies within 3 SD of the pooled range.
CALF_RANGE_CM = (37.3 - 3 * 2.9, 39.2 + 3 * 3.0)
ANKLE_RANGE_CM = (21.6 - 3 * 1.5, 22.9 + 3 * 1.5)
#: Where the asset README puts the levels on these scans (fractions of body height), widened
#: by 2 points either way: maximal calf girth 20-22%, minimal ankle girth 5-8%. The knee joint
#: line is at 0.285 H (Drillis 1964), so a calf level near 30% H would be the knee, not the calf.
CALF_LEVEL_FRAC = (0.18, 0.24)
ANKLE_LEVEL_FRAC = (0.03, 0.10)
KNEE_JOINT_FRAC = 0.285
#: Agreement required by issue 4 between calfsim and the independent cut.
TOLERANCE_CM = 0.5

pytestmark = pytest.mark.skipif(
    not ASSETS.is_dir(), reason=f"real scan assets not found at {ASSETS} (optional folder)"
)


@dataclass(frozen=True)
class Measured:
    name: str
    scan: ScanMesh
    found: LegsFound
    raw: trimesh.Trimesh  # the file parsed here, moved to the canonical frame


def parse_obj(path: Path, group: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Vertices and fanned triangles of an OBJ (only ``group`` when given); no trimesh."""
    vertices: list[list[float]] = []
    faces: list[list[int]] = []
    current = None
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("v "):
                vertices.append([float(x) for x in line.split()[1:4]])
            elif line.startswith("g "):
                current = line.split()[1] if len(line.split()) > 1 else None
            elif line.startswith("f ") and (group is None or current == group):
                idx = [int(tok.split("/")[0]) for tok in line.split()[1:]]
                idx = [i - 1 if i > 0 else len(vertices) + i for i in idx]
                faces.extend([idx[0], idx[k], idx[k + 1]] for k in range(1, len(idx) - 1))
    return np.asarray(vertices), np.asarray(faces, dtype=np.int64)


@pytest.fixture(scope="module", params=list(SCANS))
def measured(request: pytest.FixtureRequest) -> Measured:
    name = request.param
    path = ASSETS / name
    if not path.is_file():
        pytest.skip(f"{path} not found")
    scan = load_scan(path)
    found = find_legs(scan)
    v_file, faces = parse_obj(path, SCANS[name][1])
    v = trimesh.transform_points(v_file, scan.to_canonical)
    raw = trimesh.Trimesh(v, faces, process=True)  # merges duplicate vertices
    return Measured(name, scan, found, raw)


def independent_girth_cm(mesh: trimesh.Trimesh, leg: LegMeasurement, level_cm: float) -> float:
    """Hull perimeter of the section loop nearest the leg axis, at ``level_cm`` on the axis."""
    origin = leg.axis_point_at(level_cm / 100.0)
    normal = leg.axis_direction
    segments = trimesh.intersections.mesh_plane(mesh, normal, origin)
    points = segments.reshape(-1, 3)
    # Join the segments into loops: end points closer than 1 µm are the same point.
    tree = cKDTree(points)
    close = np.array(sorted(tree.query_pairs(1e-6)), dtype=np.int64).reshape(-1, 2)
    n = points.shape[0]
    pairs = np.concatenate([np.arange(n).reshape(-1, 2), close])
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    centroids = np.array([points[label == k].mean(axis=0) for k in range(label.max() + 1)])
    nearest = int(np.argmin(np.linalg.norm(centroids - origin, axis=1)))
    loop = points[label == nearest]
    u = np.cross(normal, [1.0, 0.0, 0.0])
    u /= np.linalg.norm(u)
    w = np.cross(normal, u)
    flat = np.column_stack([(loop - origin) @ u, (loop - origin) @ w])
    return 100.0 * float(ConvexHull(flat).area)  # in 2D, the "area" is the perimeter


def test_units_are_recognised_and_the_height_is_a_person(measured: Measured) -> None:
    expected_units = SCANS[measured.name][0]
    assert measured.scan.source_units == expected_units
    assert 1.5 < measured.scan.height_m < 1.8  # women of the scanner; the MakeHuman base: 1.67 m
    # The same height from the file parsed here: the extent of the canonical z.
    z = measured.raw.vertices[:, 2]
    assert math.isclose(z.max() - z.min(), measured.scan.height_m, abs_tol=1e-6)
    assert math.isclose(z.min(), 0.0, abs_tol=1e-9)  # floor at z = 0
    assert expected_units in measured.scan.units_reason


def test_two_legs_are_found_and_named_from_the_feet(measured: Measured) -> None:
    found = measured.found
    assert [leg.name for leg in found.legs] == ["left", "right"]
    assert measured.scan.is_front_known
    assert "toes point forward" in found.orientation_reason
    assert found.warnings == ()
    # Independent check in the file frame (+Y up): the toes point to +Z in these files (the
    # foot vertices reach ~18 cm ahead of the ankle and ~6 cm behind), so a person facing +Z
    # with +Y up has their left towards +X (left = up x forward).
    to_file = np.linalg.inv(measured.scan.to_canonical)
    for leg in found.legs:
        x_file = trimesh.transform_points(leg.axis_point_at(0.2)[None], to_file)[0, 0]
        assert (x_file > 0) == (leg.side is Side.LEFT)
    # Feet stand apart along canonical x, the left foot on +x.
    left, right = found.leg(Side.LEFT), found.leg(Side.RIGHT)
    assert left.axis_point_m[0] > 0.03 and right.axis_point_m[0] < -0.03


@pytest.mark.parametrize("what", ["calf", "ankle", "knee"])
def test_girths_agree_with_an_independent_plane_cut(measured: Measured, what: str) -> None:
    for leg in measured.found.legs:
        level = getattr(leg, f"{what}_level_cm")
        girth = getattr(leg, f"{what}_girth_cm")
        reference = independent_girth_cm(measured.raw, leg, level)
        assert abs(girth - reference) < TOLERANCE_CM, (measured.name, leg.name, what)


def test_profile_agrees_with_the_independent_cut_every_2_cm(measured: Measured) -> None:
    leg = measured.found.legs[0]
    heights = leg.profile_heights_cm
    pick = (heights >= leg.ankle_level_cm) & (heights <= leg.knee_level_cm)
    for h, g in list(zip(heights[pick], leg.profile_girths_cm[pick], strict=True))[::4]:
        assert abs(g - independent_girth_cm(measured.raw, leg, float(h))) < TOLERANCE_CM


def test_calf_is_the_largest_and_ankle_the_smallest_independent_girth(measured: Measured) -> None:
    # Levels chosen independently of calfsim's windows: the calf is the largest girth between
    # 15% and 25% of the height, the ankle the smallest between 4% and 10% (asset README).
    height_cm = 100 * measured.scan.height_m
    for leg in measured.found.legs:
        for what, (lo, hi), pick in (("calf", (0.15, 0.25), max), ("ankle", (0.04, 0.10), min)):
            levels = np.arange(lo * height_cm, hi * height_cm, 0.5)
            extreme = pick(independent_girth_cm(measured.raw, leg, float(h)) for h in levels)
            assert abs(getattr(leg, f"{what}_girth_cm") - extreme) < TOLERANCE_CM, (leg.name, what)


def test_girths_are_human(measured: Measured) -> None:
    for leg in measured.found.legs:
        assert CALF_RANGE_CM[0] < leg.calf_girth_cm < CALF_RANGE_CM[1]
        assert ANKLE_RANGE_CM[0] < leg.ankle_girth_cm < ANKLE_RANGE_CM[1]
        assert leg.knee_girth_cm is not None
        assert leg.ankle_girth_cm < leg.knee_girth_cm < leg.calf_girth_cm
    left, right = (leg.calf_girth_cm for leg in measured.found.legs)
    assert abs(left - right) < 2.0  # legs of one person differ by ~1 cm


def test_levels_are_where_the_calf_and_ankle_are(measured: Measured) -> None:
    height_cm = 100 * measured.scan.height_m
    for leg in measured.found.legs:
        assert CALF_LEVEL_FRAC[0] < leg.calf_level_cm / height_cm < CALF_LEVEL_FRAC[1]
        assert ANKLE_LEVEL_FRAC[0] < leg.ankle_level_cm / height_cm < ANKLE_LEVEL_FRAC[1]
        assert leg.knee_level_cm is not None
        assert leg.calf_level_cm < leg.knee_level_cm < KNEE_JOINT_FRAC * height_cm


def test_the_symmetric_makehuman_legs_measure_the_same(measured: Measured) -> None:
    if measured.name != "makehuman-base.obj":
        pytest.skip("only the MakeHuman base mesh is mirror-symmetric")
    left, right = measured.found.legs
    assert math.isclose(left.calf_girth_cm, right.calf_girth_cm, abs_tol=0.05)
    assert math.isclose(left.ankle_girth_cm, right.ankle_girth_cm, abs_tol=0.05)
    assert "group 'body' only" in measured.scan.parts_reason

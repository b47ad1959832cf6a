"""Speed of measuring a scan: load + units/up/front + both legs + girth profiles (+ JSON dict).

Run with ``make bench``; results go to docs/benchmarks.md (medians). Issue 4's target: measuring
a 10k-vertex scan in under 0.5 s. The synthetic scans are the anatomy model's lower legs
(:func:`calfsim.geometry.build_leg_mesh`) written as binary STL in millimetres, once as a
lower-leg scan and once under a box torso as a 1.70 m whole body; the real scans of
``../shared/assets/scans`` (TG3D whole-body scans of ~10k vertices, the MakeHuman base mesh) are
measured when present.
"""

from pathlib import Path

import pytest
import trimesh

from calfsim.anatomy import build_leg_anatomy
from calfsim.domain import LegMeasurements, Patient, Side
from calfsim.geometry import build_leg_mesh, find_legs
from calfsim.io import legs_to_dict, load_scan

ASSETS = Path(__file__).resolve().parents[1].parent / "shared" / "assets" / "scans"
#: Vertices around each ring: 2 legs x ~195 rings x 26 = ~10.1k vertices.
N_AROUND_10K = 26


def _legs(n_around: int) -> trimesh.Trimesh:
    parts = []
    for side in Side:
        anatomy = build_leg_anatomy(LegMeasurements(calf_girth_cm=36.3), Patient(), side=side)
        mesh = build_leg_mesh(anatomy, n_around=n_around)
        parts.append(trimesh.Trimesh(mesh.vertices_m, mesh.faces, process=False))
    return trimesh.util.concatenate(parts)


def _measure(path: Path) -> dict:
    scan = load_scan(path)
    return legs_to_dict(scan, find_legs(scan), source=path.name)


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bench_scans")
    legs = _legs(N_AROUND_10K)
    torso = trimesh.creation.box(extents=(0.40, 0.24, 1.17))
    torso.apply_translation((0.0, 0.0, 0.535 + 1.17 / 2))
    out = {}
    for name, mesh in (
        ("lower_legs", legs),
        ("whole_body", trimesh.util.concatenate([legs, torso])),
    ):
        mesh = mesh.copy()
        mesh.apply_scale(1000.0)
        path = folder / f"{name}.stl"
        mesh.export(path)
        out[name] = path
    _measure(out["lower_legs"])  # import trimesh, scipy and numpy code paths outside the timing
    return out


@pytest.mark.parametrize("name", ["lower_legs", "whole_body"])
def test_measure_10k_vertex_scan(benchmark, scans, name):
    """The issue's target (< 0.5 s): read the STL, orient it, find both legs, profiles, JSON."""
    result = benchmark(_measure, scans[name])
    assert 10_000 <= result["scan"]["n_vertices"] <= 10_500
    assert list(result["legs"]) == ["left", "right"]
    for leg in result["legs"].values():
        assert leg["calf_girth_cm"] == pytest.approx(36.3, abs=0.1)


def test_load_only_10k_vertex_scan(benchmark, scans):
    """Reading, merging, and units/up/front (``load_scan``) without measuring the legs."""
    scan = benchmark(load_scan, scans["lower_legs"])
    assert scan.source_units == "mm"


@pytest.mark.parametrize("name", ["tg3d-scan1.obj", "tg3d-scan2.obj", "makehuman-base.obj"])
def test_measure_real_scan(benchmark, name):
    path = ASSETS / name
    if not path.is_file():
        pytest.skip(f"real scan not found: {path}")
    result = benchmark(_measure, path)
    assert list(result["legs"]) == ["left", "right"]

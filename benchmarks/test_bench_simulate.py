"""Speed of the 3D try-on: measurements → both legs' meshes + 53 weekly targets + GLB.

Run with ``make bench``; medians go to docs/benchmarks.md. The 3D issue's target: under 1 s
for the geometry (anatomy, ≥ 20k-vertex skins and inner muscles of both legs, 53 weekly
median shapes, girths measured on every shape, GLB written), given the prediction. The Monte
Carlo prediction itself is timed separately, as is the whole ``simulate_legs`` with its 28 band
frames, and the deformation of a real scan (skipped when ../shared/assets is absent).
"""

from pathlib import Path

import pytest

from calfsim.io import load_scan, read_protocol, write_simulation_glb
from calfsim.simulation import LegsSimulation, predict, simulate_legs
from calfsim.simulation._simulate3d import WEEKLY_DAYS, Frame, _model_legs

REPO = Path(__file__).resolve().parents[1]
MAKEHUMAN = REPO.parent / "shared" / "assets" / "scans" / "makehuman-base.obj"


@pytest.fixture(scope="module")
def protocol():
    import dataclasses

    parsed = read_protocol(REPO / "examples" / "protocol.json")
    days = tuple(sorted({*parsed.days, *(float(d) for d in WEEKLY_DAYS)}))
    return dataclasses.replace(parsed, days=days)


@pytest.fixture(scope="module")
def prediction(protocol):
    return predict(protocol, n_samples=4000, rng=1, include_profile=True)


def test_meshes_53_weekly_targets_and_glb(benchmark, protocol, prediction, tmp_path):
    """The issue's target: both legs' meshes + 53 weekly targets + GLB, under 1 s."""
    frames = tuple(Frame(day=d, band="median") for d in WEEKLY_DAYS)

    def run():
        skins, inner, legs = _model_legs(protocol, prediction, frames, 112)
        sim = LegsSimulation(
            prediction=prediction, frames=frames, meshes=(*skins, *inner), legs=legs
        )
        return write_simulation_glb(sim, tmp_path / "legs.glb")

    path = benchmark(run)
    assert path.stat().st_size > 0


def test_predict_with_profiles_for_the_weekly_axis(benchmark, protocol):
    """The Monte Carlo behind the frames: 4,000 patients, 53+ days, 61 levels."""
    result = benchmark(predict, protocol, n_samples=4000, rng=1, include_profile=True)
    assert result.legs


def test_simulate_legs_whole(benchmark, protocol):
    """The whole use case: prediction + 81 frames (53 weekly + 28 band) of both legs."""
    sim = benchmark.pedantic(
        simulate_legs, args=(protocol,), kwargs={"rng": 1}, rounds=3, iterations=1
    )
    assert sim.max_girth_error_cm < 0.1


@pytest.mark.skipif(not MAKEHUMAN.is_file(), reason="../shared/assets/scans is absent")
def test_simulate_on_the_makehuman_scan(benchmark, protocol):
    """A real body: refine its lower legs, fit, deform 81 frames within 0.05 mm, both legs."""
    scan = load_scan(MAKEHUMAN)
    sim = benchmark.pedantic(
        simulate_legs,
        args=(protocol,),
        kwargs={"scan": scan, "rng": 1, "n_samples": 1000},
        rounds=1,
        iterations=1,
    )
    assert sim.max_girth_error_cm < 0.1

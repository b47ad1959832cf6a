"""Speed of the 3D renders: a before/after grid (2 views x 2 states, ~50k vertices per state).

Run with ``make bench``; results go to docs/benchmarks.md (medians). The issue's target for a
before/after render is under 1 s. The OpenGL context is created once per process (~0.3 s on
llvmpipe) and warmed up before timing.
"""

import numpy as np
import pytest

from calfsim.render import before_after_png, render_meshes, weeks_strip_png

SKIN = (0.91, 0.76, 0.66, 1.0)
N_RINGS, N_AROUND = 200, 125  # 25,000 vertices per leg


def _leg(x_m, shrink=0.0):
    """A lofted calf-like tube (25k vertices) with a posterior bulge that ``shrink`` flattens."""
    z = np.linspace(0.0, 0.45, N_RINGS)
    angle = np.linspace(0.0, 2 * np.pi, N_AROUND, endpoint=False)
    zz, aa = np.meshgrid(z, angle, indexing="ij")
    bulge = 0.012 * np.clip(np.sin(aa), 0, None) ** 2 * np.exp(-(((zz - 0.3) / 0.07) ** 2))
    radius = 0.035 + 0.022 * np.exp(-(((zz - 0.3) / 0.09) ** 2)) + bulge * (1 - shrink)
    vertices = np.stack([x_m + radius * np.cos(aa), radius * np.sin(aa), zz], -1).reshape(-1, 3)
    ring = np.arange(N_RINGS - 1)[:, None] * N_AROUND
    j = np.arange(N_AROUND)[None, :]
    a0, a1 = (ring + j).ravel(), (ring + (j + 1) % N_AROUND).ravel()
    b0, b1 = a0 + N_AROUND, a1 + N_AROUND
    faces = np.concatenate([np.stack([a0, a1, b1], 1), np.stack([a0, b1, b0], 1)])
    return vertices, faces, SKIN


@pytest.fixture(scope="module")
def states():
    before = [_leg(-0.08), _leg(0.08)]
    after = [_leg(-0.08, 0.8), _leg(0.08, 0.8)]
    render_meshes(before, size=(64, 64))  # create the OpenGL context outside the timing
    return before, after


def test_before_after_png(benchmark, states, tmp_path):
    """The issue's target: 2 views x 2 states, 2 legs x 25k vertices each, written as PNG."""
    before, after = states
    path = benchmark(before_after_png, before, after, tmp_path / "before_after.png")
    assert path.is_file()


def test_single_frame_600x900(benchmark, states):
    """One view of both legs (50k vertices, 100k triangles), returned as an array."""
    image = benchmark(render_meshes, states[0], view="back", size=(600, 900))
    assert image.shape == (900, 600, 4)


def test_weeks_strip_6_frames(benchmark, states, tmp_path):
    """Six weeks side by side, one camera."""
    frames = [(f"week {w}", states[0] if w == 0 else states[1]) for w in (0, 4, 8, 12, 26, 52)]
    path = benchmark(weeks_strip_png, frames, tmp_path / "weeks.png")
    assert path.is_file()

"""The printable injection map: written, A4, one marker per site, legs the right way round."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import pytest

from calfsim.anatomy import build_leg_anatomy
from calfsim.domain import LegMeasurements, MuscleHead, Patient, Side, ToxinProduct
from calfsim.errors import InvalidInputError
from calfsim.planner import plan_dilution, plan_sites, safe_zones
from calfsim.render import draw_injection_map
from calfsim.render._injection_map import _figure

MG, LG, SOL = MuscleHead.GM_MEDIAL, MuscleHead.GM_LATERAL, MuscleHead.SOLEUS
DOSES = {
    Side.LEFT: {MG: 36.0, LG: 19.0},
    Side.RIGHT: {MG: 40.0, LG: 20.0, SOL: 10.0},
}


@pytest.fixture(scope="module")
def legs():
    out = {}
    for side, girth in ((Side.LEFT, 37.5), (Side.RIGHT, 38.2)):
        anatomy = build_leg_anatomy(
            LegMeasurements(calf_girth_cm=girth, fat_thickness_mm=6.0), Patient(), side=side
        )
        out[side] = (anatomy, plan_sites(anatomy, DOSES[side], concentration_u_per_ml=50.0))
    return out


def test_png_is_written_as_an_a4_page(legs, tmp_path):
    dilution = plan_dilution(125.0, ToxinProduct.ONABOTULINUMTOXINA)
    path = draw_injection_map(legs, tmp_path / "sub" / "map.png", title="Test", dilution=dilution)
    assert path == tmp_path / "sub" / "map.png"
    assert path.stat().st_size > 50_000
    height, width, _ = mpimg.imread(path).shape
    assert (width, height) == (827, 1169)  # A4 portrait at 100 dpi


def test_svg_has_one_marker_per_site(legs, tmp_path):
    path = draw_injection_map(legs, tmp_path / "map.svg")
    ids = re.findall(r'id="site-(left|right)-(\d+)"', path.read_text(encoding="utf-8"))
    for side, (_, sites) in legs.items():
        numbers = sorted(int(n) for s, n in ids if s == side.value)
        assert numbers == [s.index for s in sites]
    assert len(ids) == sum(len(sites) for _, sites in legs.values())


def _site_x(fig):
    """x of every site marker, by (side, index), read back from the figure's artists."""
    xs = {}
    for ax in fig.axes:
        for line in ax.get_lines():
            gid = line.get_gid() or ""
            if gid.startswith("site-"):
                _, side, index = gid.split("-")
                xs[(Side(side), int(index))] = float(line.get_xdata()[0])
    return xs


def test_legs_are_seen_from_behind(legs):
    """Left leg on the left; each leg's medial head faces the other leg."""
    checked = [(side, *legs[side]) for side in (Side.LEFT, Side.RIGHT)]
    fig = _figure(checked, title="", zones=safe_zones(), dilution=None)
    try:
        xs = _site_x(fig)
        texts = [t.get_text() for ax in fig.axes for t in ax.texts]
        fig_texts = " ".join(t.get_text() for t in fig.texts)
    finally:
        plt.close(fig)
    assert len(xs) == sum(len(sites) for _, sites in legs.values())
    left = {s.head: [] for s in legs[Side.LEFT][1]}
    right = {s.head: [] for s in legs[Side.RIGHT][1]}
    for (side, index), x in xs.items():
        site = legs[side][1][index - 1]
        (left if side is Side.LEFT else right)[site.head].append(x)
    assert max(x for group in left.values() for x in group) < min(
        x for group in right.values() for x in group
    )
    assert min(left[MG]) > max(left[LG])  # left leg: medial to the right, towards the right leg
    assert max(right[MG]) < min(right[LG])  # right leg: medial to the left
    assert "SEEN FROM BEHIND" in fig_texts
    for _, sites in legs.values():
        for site in sites:
            assert f"{round(site.units_u, 1):g} U" in texts


def test_a_single_leg_can_be_drawn(legs, tmp_path):
    path = draw_injection_map({Side.RIGHT: legs[Side.RIGHT]}, tmp_path / "right.png")
    assert path.stat().st_size > 30_000


def test_a_leg_without_sites_is_drawn_with_its_regions(legs, tmp_path):
    anatomy = legs[Side.LEFT][0]
    path = draw_injection_map({Side.LEFT: (anatomy, ())}, Path(tmp_path / "empty.png"))
    assert path.exists()


def test_bad_input_is_refused(legs, tmp_path):
    with pytest.raises(InvalidInputError):
        draw_injection_map({}, tmp_path / "x.png")
    with pytest.raises(InvalidInputError, match="not an InjectionSite of the left leg"):
        draw_injection_map(
            {Side.LEFT: (legs[Side.LEFT][0], legs[Side.RIGHT][1])}, tmp_path / "x.png"
        )
    with pytest.raises(InvalidInputError, match="LegAnatomy"):
        draw_injection_map({Side.LEFT: ("leg", ())}, tmp_path / "x.png")

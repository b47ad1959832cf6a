"""The model's silhouette change: identity, which side narrows, bands, and the protocol path."""

from __future__ import annotations

import numpy as np
import pytest

from calfsim.anatomy import build_leg_anatomy
from calfsim.domain import LegMeasurements, MuscleHead, Patient, Side
from calfsim.errors import InvalidInputError
from calfsim.io import read_protocol
from calfsim.photo import SilhouetteChange, silhouette_change, silhouette_changes


@pytest.fixture(scope="module")
def leg():
    return build_leg_anatomy(LegMeasurements(calf_girth_cm=37.0), Patient(), side=Side.RIGHT)


def test_no_change_is_the_identity(leg):
    change = silhouette_change(leg, girth_cm_target=leg.girth_cm)
    assert change.is_identity
    medial, lateral = change.ratios_at(np.linspace(0, 1, 11))
    np.testing.assert_allclose(medial, 1.0, atol=1e-9)
    np.testing.assert_allclose(lateral, 1.0, atol=1e-9)


def test_uniform_girth_change_scales_the_silhouette_by_the_same_ratio(leg):
    # Without atrophy the section keeps its shape: every extent scales with the girth.
    change = silhouette_change(leg, girth_cm_target=leg.girth_cm * 0.9)
    medial, lateral = change.ratios_at(np.linspace(0.05, 0.95, 19))
    np.testing.assert_allclose(medial, 0.9, atol=2e-3)
    np.testing.assert_allclose(lateral, 0.9, atol=2e-3)


def test_the_side_of_the_wasting_head_narrows_most(leg):
    girth = leg.girth_cm * 0.97
    medial_only = silhouette_change(
        leg, girth_cm_target=girth, gm_atrophy_frac={MuscleHead.GM_MEDIAL: 0.6}
    )
    lateral_only = silhouette_change(
        leg, girth_cm_target=girth, gm_atrophy_frac={MuscleHead.GM_LATERAL: 0.6}
    )
    t = medial_only.calf_level_frac
    m1, l1 = medial_only.ratios_at(t)
    m2, l2 = lateral_only.ratios_at(t)
    assert m1 < l1 and l2 < m2
    # Where the heads are: the medial head's effect is highest around the calf level.
    levels = np.linspace(0.0, 1.0, 101)
    m, _ = medial_only.ratios_at(levels)
    assert 0.1 < levels[np.argmin(m)] < 0.6


def test_half_widths_match_the_girth_in_cm(leg):
    change = silhouette_change(leg, girth_cm_target=leg.girth_cm)
    width = float(change.width_before_cm_at(change.calf_level_frac))
    # A convex section whose tape girth is C spans between C/pi (a circle) and C/2.
    assert leg.calf_girth_cm / np.pi * 0.95 < width < leg.calf_girth_cm / 2
    assert change.girth_before_cm == pytest.approx(leg.calf_girth_cm)
    assert change.length_cm == pytest.approx(leg.length_cm)


def test_protocol_bands_are_ordered(example_path):
    protocol = read_protocol(example_path)
    bands = {
        band: silhouette_changes(protocol, day=84, band=band, n_samples=400, rng=3)
        for band in ("p10", "median", "p90")
    }
    for side in protocol.legs:
        ratios = {}
        for band, changes in bands.items():
            change = changes[side]
            ratios[band] = sum(change.ratios_at(change.calf_level_frac))
            assert change.label == f"day 84, {band}"
            p10, median, p90 = change.girth_band_cm
            assert p10 <= median <= p90 < change.girth_before_cm
        # p10 is the smaller leg: the silhouette narrows most.
        assert ratios["p10"] <= ratios["median"] <= ratios["p90"]
        assert ratios["median"] < 2.0


def test_day_zero_changes_nothing(example_path):
    protocol = read_protocol(example_path)
    for change in silhouette_changes(protocol, day=0, n_samples=200, rng=1).values():
        medial, lateral = change.ratios_at(np.linspace(0, 1, 21))
        np.testing.assert_allclose(medial, 1.0, atol=1e-6)
        np.testing.assert_allclose(lateral, 1.0, atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"day": -1}, "day"), ({"day": float("nan")}, "day"), ({"day": 84, "band": "p50"}, "band")],
)
def test_invalid_day_or_band(example_path, kwargs, field):
    protocol = read_protocol(example_path)
    with pytest.raises(InvalidInputError) as info:
        silhouette_changes(protocol, n_samples=200, **kwargs)
    assert info.value.field == field


def test_silhouette_change_validates_its_arrays():
    with pytest.raises(InvalidInputError, match="increase"):
        SilhouetteChange(
            side=Side.LEFT,
            level_frac=np.array([0.0, 0.0]),
            medial_before_cm=np.ones(2),
            lateral_before_cm=np.ones(2),
            medial_after_cm=np.ones(2),
            lateral_after_cm=np.ones(2),
            length_cm=36.0,
            calf_level_frac=0.3,
            girth_before_cm=36.0,
            girth_after_cm=35.0,
        )

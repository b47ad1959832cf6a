import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calfsim.anatomy._profile import bump, levels_cm, pchip
from calfsim.domain import Sex


def test_girth_profile_passes_through_the_landmarks(build, ev):
    leg = build(36.3, knee_girth_cm=34.0, ankle_girth_cm=21.5, lower_leg_length_cm=38.0)
    z = leg.levels_cm
    assert z[0] == 0.0
    assert leg.length_cm == 38.0
    assert leg.girth_cm[0] == pytest.approx(34.0)
    assert leg.calf_level_cm == pytest.approx(ev.number("anatomy.calf_level_frac") * 38.0)
    assert leg.girth_cm[leg.calf_level_index] == 36.3
    ankle_cm = ev.number("anatomy.ankle_level_frac") * 38.0
    ankle_index = int(np.argmin(np.abs(z - ankle_cm)))
    assert z[ankle_index] == pytest.approx(ankle_cm)
    assert leg.girth_cm[ankle_index] == pytest.approx(21.5)
    np.testing.assert_allclose(leg.girth_cm[ankle_index:], 21.5)


def test_calf_level_is_the_maximum_and_profile_is_monotone(build):
    leg = build(41.0, knee_girth_cm=38.0)
    i = leg.calf_level_index
    assert int(np.argmax(leg.girth_cm)) == i
    assert np.all(leg.girth_cm[np.arange(leg.n_levels) != i] < leg.girth_cm[i])
    assert np.all(np.diff(leg.girth_cm[: i + 1]) > 0)
    assert np.all(np.diff(leg.girth_cm[i:]) <= 1e-12)


def test_knee_wider_than_calf_is_capped_and_noted(build, ev):
    leg = build(35.0, knee_girth_cm=37.0)
    cap = ev.number("anatomy.knee_profile_max_calf_ratio")
    assert leg.measurements.knee_girth_cm == 37.0
    assert leg.girth_cm[0] == pytest.approx(cap * 35.0)
    assert int(np.argmax(leg.girth_cm)) == leg.calf_level_index
    assert any("knee girth" in note for note in leg.notes)


def test_default_knee_keeps_the_calf_level_the_maximum(build):
    for sex in (Sex.FEMALE, Sex.MALE, None):
        leg = build(37.0, sex=sex)
        assert int(np.argmax(leg.girth_cm)) == leg.calf_level_index
        assert not any("knee girth" in note for note in leg.notes)


def test_levels_frac_runs_from_zero_to_one(build):
    leg = build(36.0, n_levels=101)
    assert leg.levels_frac[0] == 0.0
    assert leg.levels_frac[-1] == 1.0
    assert leg.levels_frac.shape == (101,)
    assert np.all(np.diff(leg.levels_frac) > 0)


def test_levels_snap_landmarks_and_stay_increasing():
    z = levels_cm(37.5, 11, snap_cm=(11.25, 32.625))
    assert 11.25 in z and 32.625 in z
    assert np.all(np.diff(z) > 0)
    assert z[0] == 0.0 and z[-1] == 37.5


def test_bump_is_one_at_peak_zero_outside():
    x = np.linspace(-0.2, 1.2, 141)
    w = bump(x, start=0.1, peak=0.5, end=0.9)
    assert w.max() == pytest.approx(1.0)
    assert x[np.argmax(w)] == pytest.approx(0.5)
    assert np.all(w[(x <= 0.1) | (x >= 0.9)] == 0.0)
    assert np.all((w >= 0) & (w <= 1))


@settings(max_examples=50, deadline=None)
@given(
    knee=st.floats(20, 34.9),
    ankle=st.floats(15, 34.9),
    calf_level=st.floats(5, 15),
    gap=st.floats(5, 20),
)
def test_pchip_never_overshoots_the_calf(knee, ankle, calf_level, gap):
    knots = np.array([0.0, calf_level, calf_level + gap, calf_level + gap + 5.0])
    values = np.array([knee, 35.0, ankle, ankle])
    x = np.linspace(0.0, knots[-1], 400)
    y = pchip(knots, values, x)
    assert y.max() <= 35.0 + 1e-9
    assert y.min() >= min(knee, ankle) - 1e-9
    np.testing.assert_allclose(pchip(knots, values, knots), values, atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(st.floats(0.05, 20.0), min_size=1, max_size=7),
    # Whole micro-units: neighbouring values are equal or differ by >= 1e-6 (SciPy itself
    # overflows on secants near the smallest float).
    values=st.lists(st.integers(-50_000_000, 50_000_000), min_size=8, max_size=8),
    where=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=30),
)
def test_pchip_equals_scipy_pchip(steps, values, where):
    from scipy.interpolate import PchipInterpolator

    knots = np.concatenate([[0.0], np.cumsum(steps)])
    y = np.array(values[: knots.size]) / 1e6
    x = np.concatenate([knots, np.array(where) * knots[-1]])
    expected = PchipInterpolator(knots, y, extrapolate=False)(x)
    np.testing.assert_allclose(pchip(knots, y, x), expected, rtol=1e-12, atol=1e-10)


def test_pchip_is_nan_outside_the_knots_like_scipy():
    y = pchip(np.array([0.0, 1.0, 3.0]), np.array([1.0, 2.0, 0.0]), np.array([-0.1, 3.1]))
    assert np.all(np.isnan(y))


def test_pchip_flat_and_extremum_knots_have_zero_slope():
    knots = np.array([0.0, 1.0, 2.0, 3.0])
    y = pchip(knots, np.array([0.0, 1.0, 1.0, 0.0]), np.linspace(1.0, 2.0, 11))
    np.testing.assert_allclose(y, 1.0, atol=1e-15)


def test_length_scales_with_height_when_not_measured(build, ev):
    leg = build(36.0, height_cm=170.0)
    ratio = ev.number("anthropometry.lower_leg_to_stature_women_ratio")
    assert leg.length_cm == pytest.approx(170.0 * ratio)
    assert "lower_leg_length_cm" in leg.defaulted
    measured = build(36.0, height_cm=170.0, lower_leg_length_cm=35.0)
    assert measured.length_cm == 35.0
    assert "lower_leg_length_cm" not in measured.defaulted

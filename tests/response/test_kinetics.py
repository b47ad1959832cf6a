"""The kinetics reproduce the evidence report's own model tables (an independent source)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calfsim.evidence import load_evidence
from calfsim.response import block_amplitude_frac, iter_atrophy_frac, simulate_atrophy_frac

EV = load_evidence()
ONE = np.ones(1)
# Central parameters of evidence §8.2, in days.
CENTRAL = {
    "tau_on_days": 0.75 * 7 * ONE,
    "tau_off_days": 6 * 7 * ONE,
    "repeat_slowing_ratio": ONE,
    "tau_atr_days": 5.5 * 7 * ONE,
    "tau_reg_days": 30 * 7 * ONE,
    "a_max_frac": 0.8 * ONE,
}


def run(amplitude, session_days, t_max_days, **overrides):
    params = {**CENTRAL, **overrides}
    t = np.arange(0.0, t_max_days + 1.0)
    amp = np.full((len(session_days), 1, 1), amplitude)
    a = simulate_atrophy_frac(t, np.asarray(session_days, float), amp, **params)
    return t, a[0, 0]


def test_single_session_shape_matches_report_table():
    weeks = EV.series("calibration.model_shape_weeks")
    expected = EV.series("calibration.model_shape_peak_ratio")
    t, a = run(0.5, [0], 400)
    ratio = a[(np.array(weeks) * 7).astype(int)] / a.max()
    # The report rounds to 2 decimals and may sample weekly; 0.03 covers both.
    np.testing.assert_allclose(ratio, expected, atol=0.03)
    assert 11 <= t[a.argmax()] / 7 <= 13


@pytest.mark.parametrize(("amplitude", "index"), [(0.5, 0), (0.8, 1), (1.0, 2)])
def test_single_session_peak_matches_report(amplitude, index):
    expected = EV.series("calibration.model_single_peak_frac")[index]
    _, a = run(amplitude, [0], 200)
    assert a.max() == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize(("key", "interval_weeks"), [("q12", 12), ("q24", 24)])
def test_repeated_sessions_match_report(key, interval_weeks):
    expected = EV.series(f"calibration.model_repeat_{key}_frac")
    days = [k * interval_weeks * 7 for k in range(4)]
    _, a = run(0.5, days, days[-1] + 365)
    got = [a[d + 84] for d in days] + [a[days[-1] + 364]]
    np.testing.assert_allclose(got, expected, atol=0.015)


def test_zero_amplitude_gives_exactly_zero():
    _, a = run(0.0, [0, 100], 400)
    assert np.all(a == 0.0)


@settings(max_examples=60, deadline=None)
@given(
    low=st.floats(0.0, 0.999),
    extra=st.floats(0.0, 1.0),
    gap_days=st.integers(84, 200),
)
def test_more_block_never_less_atrophy(low, extra, gap_days):
    high = min(low + extra, 0.999)
    _, a_low = run(low, [0, gap_days], gap_days + 300)
    _, a_high = run(high, [0, gap_days], gap_days + 300)
    assert np.all(a_high >= a_low - 1e-6)  # float32 kinetics: one ulp


@settings(max_examples=60, deadline=None)
@given(amplitude=st.floats(0.0, 1.0), a_max=st.floats(0.3, 0.95))
def test_atrophy_bounded_and_recovers(amplitude, a_max):
    _, a = run(amplitude, [0], 1500, a_max_frac=a_max * ONE)
    assert np.all(a >= 0.0)
    assert np.all(a < a_max)
    # After the last session the course returns toward baseline.
    assert a[-1] <= a.max() * 0.05 + 1e-12


def test_block_amplitude_is_hill_curve():
    d = np.array([0.0, 0.15, 0.3, 0.6, 3.0])
    b = block_amplitude_frac(d, ed50_u_per_cm3=np.array(0.3), hill_ratio=np.array(1.0))
    np.testing.assert_allclose(b, d / (0.3 + d))
    assert np.all(np.diff(b) > 0)


@pytest.mark.parametrize("chunk_steps", [1, 3, 8, 32, 500])
def test_chunk_length_does_not_change_the_result(chunk_steps):
    # The integration runs chunk by chunk of the time grid (length chosen by the data size by
    # default); any chunk length must give the same atrophy at every time.
    rng = np.random.default_rng(5)
    n_rows, n_heads = 40, 3
    t = np.arange(0.0, 300.0, 2.0)
    amp = rng.uniform(0.0, 0.9, size=(2, n_heads, n_rows))
    params = {k: v * rng.uniform(0.7, 1.3, size=n_rows) for k, v in CENTRAL.items()}
    params["repeat_slowing_ratio"] = np.full(n_rows, 1.2)
    days = np.array([0.0, 120.0])

    def collect(steps):
        out = np.empty((t.size, n_heads, n_rows), dtype=np.float32)
        for i0, chunk in iter_atrophy_frac(t, days, amp, chunk_steps=steps, **params):
            out[i0 : i0 + chunk.shape[0]] = chunk
        return out

    np.testing.assert_array_equal(collect(chunk_steps), collect(None))

"""Bands summarise Monte Carlo draws exactly as ``np.percentile`` would (they sort instead)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from calfsim.simulation import Band

FINITE = st.floats(-1e6, 1e6, allow_nan=False, width=64)


@settings(max_examples=200, deadline=None)
@given(
    hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=40), elements=FINITE),
    st.data(),
)
def test_band_equals_numpy_percentile(samples, data):
    axis = data.draw(st.integers(0, samples.ndim - 1))
    band = Band.from_samples(samples, axis=axis)
    p10, median, p90 = np.percentile(samples, [10.0, 50.0, 90.0], axis=axis)
    np.testing.assert_array_equal(band.p10, p10)
    np.testing.assert_array_equal(band.median, median)
    np.testing.assert_array_equal(band.p90, p90)


def test_stacked_bands_equal_one_band_per_quantity():
    stacked = np.random.default_rng(3).normal(size=(4, 501, 8))
    for i, band in enumerate(Band.stack_from_samples(stacked, axis=1)):
        alone = Band.from_samples(stacked[i], axis=0)
        np.testing.assert_array_equal(band.median, alone.median)
        np.testing.assert_array_equal(band.p10, alone.p10)
        np.testing.assert_array_equal(band.p90, alone.p90)


def test_nan_draws_give_nan_like_numpy():
    samples = np.arange(20.0).reshape(10, 2)
    samples[3, 1] = np.nan
    band = Band.from_samples(samples)
    assert np.isnan(band.median[1]) and not np.isnan(band.median[0])
    assert band.median[0] == np.percentile(samples[:, 0], 50.0)

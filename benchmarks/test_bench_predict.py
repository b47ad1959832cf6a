"""Speed of the response model: 10,000 virtual patients over 2 years at daily resolution.

Run with ``make bench``; results go to docs/benchmarks.md (medians).
"""

import numpy as np
import pytest

from calfsim.domain import LegDose, LegMeasurements, Patient, Protocol, Session, Side, ToxinProduct
from calfsim.evidence import load_evidence
from calfsim.response import population_prior, sample_params
from calfsim.simulation import calf_girth_daily_cm, predict

N_PATIENTS = 10_000
N_DAYS = 731  # day 0 to day 730: two years, daily


def _protocol(days=(0.0, 84.0)):
    dose = {Side.LEFT: LegDose(total_u=100), Side.RIGHT: LegDose(total_u=100)}
    return Protocol(
        patient=Patient(),
        legs={
            Side.LEFT: LegMeasurements(calf_girth_cm=36.3),
            Side.RIGHT: LegMeasurements(calf_girth_cm=36.5),
        },
        sessions=(
            Session(day=0, product=ToxinProduct.ONABOTULINUMTOXINA, doses_u=dose),
            Session(day=112, product=ToxinProduct.ONABOTULINUMTOXINA, doses_u=dose),
        ),
        days=days,
    )


@pytest.fixture(scope="module")
def params():
    return sample_params(population_prior(load_evidence()), N_PATIENTS, np.random.default_rng(1))


def test_monte_carlo_10k_patients_2_years_daily(benchmark, params):
    """Both legs, two sessions: every patient's calf girth on every day (the issue's target)."""
    protocol = _protocol()
    result = benchmark(calf_girth_daily_cm, protocol, params, n_days=N_DAYS)
    assert result[Side.LEFT].shape == (N_DAYS, N_PATIENTS)


def test_band_summary_daily(benchmark, params):
    """Summarising those courses to p10/median/p90 per day (both legs)."""
    girth = calf_girth_daily_cm(_protocol(), params, n_days=N_DAYS)

    def summarise():
        return {s: np.percentile(g, [10, 50, 90], axis=1) for s, g in girth.items()}

    bands = benchmark(summarise)
    assert bands[Side.LEFT].shape == (3, N_DAYS)


def test_predict_cli_default(benchmark):
    """`calfsim predict` core call: 4,000 patients, 8 reported days, both legs, with profiles."""
    protocol = _protocol(days=(0, 7, 14, 28, 56, 84, 182, 365))
    benchmark(predict, protocol, n_samples=4000, rng=1)

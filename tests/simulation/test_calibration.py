"""The calibration claims of docs/model.md, checked against the published data."""

import numpy as np
import pytest

from calfsim.evidence import load_evidence
from calfsim.simulation._calibration import (
    chang_repeated_sessions,
    cp_time_course,
    fortuna_maximal_atrophy,
    masseter_time_course,
    park_dose_response,
)

EV = load_evidence()


@pytest.mark.parametrize("compare", [masseter_time_course, cp_time_course])
def test_nadir_at_the_published_week(compare):
    points = compare(EV, n=500)
    nadir_index = int(np.argmax(points.observed))
    assert points.median[nadir_index] == pytest.approx(1.0, abs=0.02)
    assert points.is_inside_band[nadir_index]


def test_cp_shape_inside_band():
    assert cp_time_course(EV, n=500).is_inside_band.all()


def test_chang_repeated_sessions_inside_band():
    points = chang_repeated_sessions(EV, n=500)
    assert points.is_inside_band.all()
    assert abs(points.residual[0]) < 0.05


def test_fortuna_maximal_atrophy_at_three_and_six_months():
    points = fortuna_maximal_atrophy(EV, n=500)
    assert points.is_inside_band[1:].all()
    assert (points.median > -0.95).all()  # never the whole muscle


def test_park_area_and_girth_at_week_12():
    girth, area = park_dose_response(EV, week=12, n=1000)
    assert area.is_inside_band.all()
    assert girth.is_inside_band.all()
    # The documented disagreement: the median girth change is smaller than Park's.
    assert (girth.residual < 0).all()
    # Monotone but flattening, like the data.
    assert np.all(np.diff(girth.median) < 0)
    assert np.diff(girth.median)[1] > np.diff(girth.median)[0]

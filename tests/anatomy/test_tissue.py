import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from calfsim.anatomy import Tissue, area_from_girth_cm2, girth_from_area_cm
from calfsim.anatomy._tissue import annulus_area_cm2
from calfsim.domain import MuscleHead
from calfsim.errors import InvalidInputError


def test_circle_of_known_radius():
    # A circle of radius 5 cm: girth 10π cm, area 25π cm².
    assert girth_from_area_cm(25 * math.pi) == pytest.approx(10 * math.pi)
    assert area_from_girth_cm2(10 * math.pi) == pytest.approx(25 * math.pi)


def test_scalar_in_scalar_out_and_shape_preserved():
    assert isinstance(girth_from_area_cm(100.0), float)
    assert isinstance(area_from_girth_cm2(36), float)
    areas = np.full((3, 4), 100.0)
    assert girth_from_area_cm(areas).shape == (3, 4)


@given(st.floats(min_value=0.0, max_value=1e4, allow_nan=False))
def test_girth_and_area_round_trip(area_cm2):
    assert area_from_girth_cm2(girth_from_area_cm(area_cm2)) == pytest.approx(area_cm2, abs=1e-9)


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_bad_area_rejected(bad):
    with pytest.raises(InvalidInputError, match="area_cm2"):
        girth_from_area_cm(np.array([10.0, bad]))
    with pytest.raises(InvalidInputError, match="girth_cm"):
        area_from_girth_cm2(bad)


def test_annulus_is_ct_minus_pi_t_squared():
    girth_cm = np.array([30.0, 36.0])
    t_cm = 0.7
    expected = girth_cm * t_cm - math.pi * t_cm**2
    np.testing.assert_allclose(annulus_area_cm2(girth_cm, t_cm), expected)


def test_tissue_of_every_head():
    for head in MuscleHead:
        assert Tissue.from_head(head).value == head.value
    with pytest.raises(InvalidInputError, match="head"):
        Tissue.from_head("gm_medial")  # type: ignore[arg-type]

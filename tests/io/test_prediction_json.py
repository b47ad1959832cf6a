"""The prediction contract (JSON out) has its fixed names, ordered bands and plain JSON values."""

from __future__ import annotations

import json
from typing import Any

import pytest

import calfsim
from calfsim.io import parse_protocol, prediction_to_dict
from calfsim.simulation import predict

SAMPLES = 500
SEED = 7
SIDES = ("left", "right")
HEADS = ("gm_medial", "gm_lateral", "soleus")
BAND = {"p10", "median", "p90"}


@pytest.fixture(scope="module")
def prediction(example_path):
    protocol = parse_protocol(json.loads(example_path.read_text(encoding="utf-8")))
    return predict(protocol, n_samples=SAMPLES, rng=SEED)


@pytest.fixture(scope="module")
def out(prediction) -> dict[str, Any]:
    return prediction_to_dict(prediction)


def bands(out: dict[str, Any]):
    """Every (name, band) of the contract, in both legs."""
    for side in SIDES:
        leg = out["legs"][side]
        yield f"{side}.calf_girth_cm", leg["calf_girth_cm"]
        yield f"{side}.calf_girth_change_cm", leg["calf_girth_change_cm"]
        for head in HEADS:
            yield f"{side}.heads.{head}", leg["heads"][head]["volume_change_frac"]


def test_top_level_fixed_names(out):
    assert {"model_version", "calfsim_version", "samples", "seed", "legs"} <= out.keys()
    assert isinstance(out["model_version"], str)
    assert out["model_version"]
    assert out["calfsim_version"] == calfsim.__version__
    assert out["samples"] == SAMPLES
    assert out["seed"] == SEED
    assert out["notes"] == []


def test_legs_days_and_heads(out, example):
    assert set(out["legs"]) == set(SIDES)
    for side in SIDES:
        leg = out["legs"][side]
        assert leg["days"] == [float(d) for d in example["days"]]
        assert set(leg["heads"]) == set(HEADS)


def test_every_band_has_p10_median_p90_of_len_days(out):
    n_days = len(out["legs"]["left"]["days"])
    for name, band in bands(out):
        assert set(band) == BAND, name
        for key in BAND:
            assert len(band[key]) == n_days, (name, key)
            assert all(isinstance(x, float) for x in band[key]), (name, key)


def test_bands_are_ordered(out):
    for name, band in bands(out):
        for lo, mid, hi in zip(band["p10"], band["median"], band["p90"], strict=True):
            assert lo <= mid <= hi, name
    for side in SIDES:
        profile = out["legs"][side]["profile"]["girth_cm"]
        for lo_row, mid_row, hi_row in zip(
            profile["p10"], profile["median"], profile["p90"], strict=True
        ):
            assert all(lo <= mid <= hi for lo, mid, hi in zip(lo_row, mid_row, hi_row, strict=True))


def test_girth_is_baseline_plus_change(out):
    for side in SIDES:
        leg = out["legs"][side]
        base = leg["baseline_calf_girth_cm"]
        for key in BAND:
            girth = leg["calf_girth_cm"][key]
            change = leg["calf_girth_change_cm"][key]
            assert girth == pytest.approx([base + c for c in change], abs=1e-9)
        # Day 0 is the first session: nothing has changed yet.
        assert leg["calf_girth_change_cm"]["median"][0] == pytest.approx(0.0, abs=1e-12)


def test_is_plain_json_without_nan(out):
    text = json.dumps(out, allow_nan=False)
    assert json.loads(text) == out


def test_profile_is_optional(prediction):
    without = prediction_to_dict(prediction, include_profile=False)
    assert all("profile" not in leg for leg in without["legs"].values())
    assert (
        without["legs"]["left"]["calf_girth_cm"]
        == prediction_to_dict(prediction)["legs"]["left"]["calf_girth_cm"]
    )


def test_same_seed_same_json(example):
    protocol = parse_protocol(example)
    first = prediction_to_dict(predict(protocol, n_samples=300, rng=3))
    again = prediction_to_dict(predict(protocol, n_samples=300, rng=3))
    assert json.dumps(first) == json.dumps(again)

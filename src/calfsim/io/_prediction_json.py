"""The prediction contract (JSON out)."""

from __future__ import annotations

from typing import Any

import calfsim
from calfsim.simulation import Prediction

__all__ = ["prediction_to_dict"]


def prediction_to_dict(prediction: Prediction, *, include_profile: bool = True) -> dict[str, Any]:
    """Return the JSON-ready dict of the ``calfsim predict --json`` contract.

    Fixed names: ``model_version``, ``calfsim_version``, ``samples``, ``seed`` and per leg
    ``days``, ``calf_girth_cm``, ``calf_girth_change_cm`` and
    ``heads.<head>.volume_change_frac`` (each ``{"p10", "median", "p90"}``). Extra fields:
    baseline, calf level, tape error, doses per head, head volumes and the girth profile.
    """
    legs: dict[str, Any] = {}
    for side, leg in prediction.legs.items():
        entry: dict[str, Any] = {
            "days": leg.days.astype(float).tolist(),
            "baseline_calf_girth_cm": leg.baseline_calf_girth_cm,
            "calf_level_below_knee_cm": leg.calf_level_cm,
            "calf_girth_cm": leg.calf_girth_cm.to_dict(),
            "calf_girth_change_cm": leg.calf_girth_change_cm.to_dict(),
            "heads": {
                head.value: {
                    "volume_cm3": leg.head_volume_cm3[head],
                    "dose_u_by_session": list(leg.head_dose_u[head]),
                    "volume_change_frac": band.to_dict(),
                }
                for head, band in leg.head_volume_change_frac.items()
            },
        }
        profile = leg.girth_profile_cm
        if include_profile and profile is not None:
            entry["profile"] = {
                "levels_below_knee_cm": leg.levels_cm.astype(float).tolist(),
                "girth_cm": {
                    name: getattr(profile, name).astype(float).tolist()
                    for name in ("p10", "median", "p90")
                },
            }
        legs[side.value] = entry
    return {
        "model_version": prediction.model_version,
        "calfsim_version": calfsim.__version__,
        "samples": prediction.samples,
        "seed": prediction.seed,
        "tape_error_sd_cm": prediction.tape_error_cm,
        "notes": list(prediction.notes),
        "legs": legs,
    }

"""Use cases that compose anatomy and response: predictions with bands over time."""

from calfsim.simulation._predict import (
    HEADS,
    LegCourse,
    calf_girth_daily_cm,
    predict,
    simulate_courses,
)
from calfsim.simulation._prediction import Band, LegPrediction, Prediction
from calfsim.simulation._safety import (
    check_dose_in_evidence,
    check_treatment_safety,
)

__all__ = [
    "HEADS",
    "Band",
    "LegCourse",
    "LegPrediction",
    "Prediction",
    "calf_girth_daily_cm",
    "check_dose_in_evidence",
    "check_treatment_safety",
    "predict",
    "simulate_courses",
]

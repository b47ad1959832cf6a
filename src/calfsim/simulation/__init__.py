"""Use cases that compose anatomy, response and planner: predictions with bands, plans."""

from calfsim.simulation._plan import DoseChoice, Goal, GoalKind, Plan, PlanRequest, make_plan
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
from calfsim.simulation._simulate3d import (
    BAND_EVERY_DAYS,
    BANDS,
    WEEKLY_DAYS,
    Frame,
    LegFrames,
    LegsSimulation,
    MeshFrames,
    simulate_legs,
)

__all__ = [
    "BANDS",
    "BAND_EVERY_DAYS",
    "HEADS",
    "WEEKLY_DAYS",
    "Band",
    "DoseChoice",
    "Frame",
    "Goal",
    "GoalKind",
    "LegCourse",
    "LegFrames",
    "LegPrediction",
    "LegsSimulation",
    "MeshFrames",
    "Plan",
    "PlanRequest",
    "Prediction",
    "calf_girth_daily_cm",
    "check_dose_in_evidence",
    "check_treatment_safety",
    "make_plan",
    "predict",
    "simulate_courses",
    "simulate_legs",
]

"""The vocabulary of calfsim as frozen value objects (no patient identifiers)."""

from calfsim.domain._measurement import MEASUREMENT_LIMITS, LegMeasurements, Patient
from calfsim.domain._treatment import (
    MAX_DAY,
    MAX_DOSE_PER_LEG_U,
    LegDose,
    Protocol,
    RecentToxin,
    Session,
)
from calfsim.domain._vocabulary import MuscleHead, Sex, Side, ToxinProduct

__all__ = [
    "MAX_DAY",
    "MAX_DOSE_PER_LEG_U",
    "MEASUREMENT_LIMITS",
    "LegDose",
    "LegMeasurements",
    "MuscleHead",
    "Patient",
    "Protocol",
    "RecentToxin",
    "Session",
    "Sex",
    "Side",
    "ToxinProduct",
]

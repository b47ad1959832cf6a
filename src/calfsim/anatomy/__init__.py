"""The layered lower leg: measurements -> tissue cross-sections along the leg.

Each level from the knee joint line to the ankle is a circular section filled, from outside in,
with skin, subcutaneous fat, the medial and lateral gastrocnemius heads, the soleus, the other
compartments and bone. Missing measurements come from sex-specific anthropometric defaults;
every number is an evidence item (topics ``anatomy`` and ``anthropometry``).

Examples
--------
>>> from calfsim.anatomy import build_leg_anatomy, default_head_split_frac
>>> from calfsim.domain import LegMeasurements, MuscleHead, Patient, Side
>>> leg = build_leg_anatomy(LegMeasurements(calf_girth_cm=36.3), Patient(), side=Side.LEFT)
>>> leg.is_sex_assumed, leg.n_levels
(True, 61)
"""

from calfsim.anatomy._build import build_leg_anatomy
from calfsim.anatomy._leg import LegAnatomy, default_head_split_frac
from calfsim.anatomy._params import AnatomyParams, SexDefaults, default_params
from calfsim.anatomy._tissue import Tissue, area_from_girth_cm2, girth_from_area_cm

__all__ = [
    "AnatomyParams",
    "LegAnatomy",
    "SexDefaults",
    "Tissue",
    "area_from_girth_cm2",
    "build_leg_anatomy",
    "default_head_split_frac",
    "default_params",
    "girth_from_area_cm",
]

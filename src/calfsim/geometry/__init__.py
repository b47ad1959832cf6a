"""Leg meshes from the anatomy model, their deformation over time, and girth on any mesh."""

from calfsim.geometry._deform import (
    RadialScaleField,
    deform_inner,
    deform_leg,
    radial_scale_field,
)
from calfsim.geometry._leg_mesh import (
    ANTERIOR_DIRECTION,
    DEFAULT_OFFSET_X_M,
    LEFT_DIRECTION,
    LegMesh,
    anatomical_angle_rad,
    build_leg_mesh,
)
from calfsim.geometry._measure import (
    LOWER_LEGS_HEIGHT_M,
    SCAN_UNITS,
    WHOLE_BODY_HEIGHT_M,
    LegMeasurement,
    LegsFound,
    ScanMesh,
    find_legs,
    girth_profile_cm,
)
from calfsim.geometry._scan_orient import orient_scan
from calfsim.geometry._section import girth_plane_cut_cm

__all__ = [
    "ANTERIOR_DIRECTION",
    "DEFAULT_OFFSET_X_M",
    "LEFT_DIRECTION",
    "LOWER_LEGS_HEIGHT_M",
    "SCAN_UNITS",
    "WHOLE_BODY_HEIGHT_M",
    "LegMeasurement",
    "LegMesh",
    "LegsFound",
    "RadialScaleField",
    "ScanMesh",
    "anatomical_angle_rad",
    "build_leg_mesh",
    "deform_inner",
    "deform_leg",
    "find_legs",
    "girth_plane_cut_cm",
    "girth_profile_cm",
    "orient_scan",
    "radial_scale_field",
]

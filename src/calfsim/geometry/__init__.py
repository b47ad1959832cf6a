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
from calfsim.geometry._scan_deform import (
    GIRTH_TOLERANCE_CM,
    REFINE_EDGE_M,
    LegAxisFrame,
    deform_scan_leg,
    fit_anatomy_to_scan,
    leg_axis_frame,
    level_girths_cm,
    model_points_on_scan_leg,
    refine_scan_below,
    scan_leg_measurements,
    scan_leg_vertex_index,
)
from calfsim.geometry._scan_orient import orient_scan
from calfsim.geometry._section import girth_plane_cut_cm

__all__ = [
    "ANTERIOR_DIRECTION",
    "DEFAULT_OFFSET_X_M",
    "GIRTH_TOLERANCE_CM",
    "LEFT_DIRECTION",
    "LOWER_LEGS_HEIGHT_M",
    "REFINE_EDGE_M",
    "SCAN_UNITS",
    "WHOLE_BODY_HEIGHT_M",
    "LegAxisFrame",
    "LegMeasurement",
    "LegMesh",
    "LegsFound",
    "RadialScaleField",
    "ScanMesh",
    "anatomical_angle_rad",
    "build_leg_mesh",
    "deform_inner",
    "deform_leg",
    "deform_scan_leg",
    "find_legs",
    "fit_anatomy_to_scan",
    "girth_plane_cut_cm",
    "girth_profile_cm",
    "leg_axis_frame",
    "level_girths_cm",
    "model_points_on_scan_leg",
    "orient_scan",
    "radial_scale_field",
    "refine_scan_below",
    "scan_leg_measurements",
    "scan_leg_vertex_index",
]

"""Plots and images (matplotlib, Agg backend) and headless mesh renders (moderngl, EGL)."""

from calfsim.render._girth_plot import plot_prediction
from calfsim.render._injection_map import draw_injection_map
from calfsim.render._mesh_render import (
    MeshCamera,
    before_after_png,
    frame_camera,
    render_meshes,
    weeks_strip_png,
)
from calfsim.render._simulation_images import (
    STRIP_WEEKS,
    simulation_before_after_png,
    simulation_weeks_png,
)

__all__ = [
    "STRIP_WEEKS",
    "MeshCamera",
    "before_after_png",
    "draw_injection_map",
    "frame_camera",
    "plot_prediction",
    "render_meshes",
    "simulation_before_after_png",
    "simulation_weeks_png",
    "weeks_strip_png",
]

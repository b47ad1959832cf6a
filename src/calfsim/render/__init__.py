"""Plots and images (matplotlib, Agg backend)."""

from calfsim.render._girth_plot import plot_prediction
from calfsim.render._injection_map import draw_injection_map

__all__ = ["draw_injection_map", "plot_prediction"]

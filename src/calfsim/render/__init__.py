"""Plots and images (matplotlib, Agg backend)."""

from calfsim.render._girth_plot import plot_prediction

__all__ = ["plot_prediction"]

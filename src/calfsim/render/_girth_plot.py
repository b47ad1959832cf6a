"""Girth over time with its band, beside the baseline and the tape's error."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from calfsim.simulation import Prediction
from calfsim.units import DAYS_PER_WEEK

__all__ = ["plot_prediction"]

_COLOURS = {"left": "#1f6fb2", "right": "#c2561a"}


def plot_prediction(prediction: Prediction, path: Path) -> Path:
    """Draw calf girth vs time (median and p10-p90 band) for each leg into a PNG.

    The baseline is drawn with a shaded ± tape-error strip: a change inside it is not
    distinguishable from measurement error.
    """
    legs = list(prediction.legs.items())
    fig, axes = plt.subplots(
        1, len(legs), figsize=(6.2 * len(legs), 4.4), squeeze=False, sharey=True
    )
    for ax, (side, leg) in zip(axes[0], legs, strict=True):
        weeks = leg.days / DAYS_PER_WEEK
        colour = _COLOURS[side.value]
        base = leg.baseline_calf_girth_cm
        err = prediction.tape_error_cm
        ax.axhspan(
            base - err, base + err, color="0.88", label=f"baseline ± tape error ({err:g} cm)"
        )
        ax.axhline(base, color="0.4", lw=1, ls="--")
        band = leg.calf_girth_cm
        ax.fill_between(
            weeks, band.p10, band.p90, color=colour, alpha=0.25, label="likely range (p10–p90)"
        )
        ax.plot(weeks, band.median, color=colour, lw=2, marker="o", ms=3, label="median")
        ax.set_title(f"{side.value.capitalize()} calf (baseline {base:.1f} cm)")
        ax.set_xlabel("weeks after first session")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    axes[0][0].set_ylabel("calf girth at the measured level (cm)")
    fig.suptitle(
        f"calfsim prediction ({prediction.samples} virtual patients, model "
        f"{prediction.model_version}) — a simulation, not a promise",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

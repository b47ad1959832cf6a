"""Result types of a prediction: bands over days, per leg and per muscle head."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from calfsim.domain import MuscleHead, Side

__all__ = ["Band", "LegPrediction", "Prediction"]

FloatArray = NDArray[np.float64]


def _frozen(a: FloatArray) -> FloatArray:
    out = np.array(a, dtype=np.float64, copy=True)
    out.setflags(write=False)
    return out


_BAND_PERCENTILES = (10.0, 50.0, 90.0)


def _band_percentiles(samples: FloatArray, axis: int) -> FloatArray:
    """``np.percentile(samples, [10, 50, 90], axis=axis)``, by sorting.

    NumPy's percentile selects its order statistics with one partition per needed rank;
    for the sizes of a prediction (hundreds of draws, tens of columns) a full vectorised
    sort is ~3x faster on these machines (docs/benchmarks.md). Same "linear" method and
    the same interpolation formula, so the values are NumPy's; arrays holding NaN go to
    NumPy (its NaN propagation).
    """
    data = np.moveaxis(np.asarray(samples), axis, -1)
    ordered = np.sort(data, axis=-1)
    n = ordered.shape[-1]
    if n == 0 or not np.isfinite(ordered[..., -1]).all():
        return np.asarray(np.percentile(samples, _BAND_PERCENTILES, axis=axis), dtype=np.float64)
    position = np.asarray(_BAND_PERCENTILES) / 100.0 * (n - 1)
    below = np.floor(position).astype(np.intp)
    above = np.minimum(below + 1, n - 1)
    frac = position - below
    lo = np.moveaxis(ordered[..., below], -1, 0)
    hi = np.moveaxis(ordered[..., above], -1, 0)
    w = frac.reshape((-1,) + (1,) * (lo.ndim - 1))
    diff = hi - lo
    # NumPy's _lerp: from the nearer end, so that a weight of 0 or 1 returns the end exactly.
    out = np.where(w >= 0.5, hi - diff * (1.0 - w), lo + diff * w)
    return np.asarray(out, dtype=np.float64)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Band:
    """Percentiles of a Monte Carlo distribution, one value per reported day.

    ``p10`` is the 10th percentile of the value (for a change: the most negative one).
    """

    p10: FloatArray
    median: FloatArray
    p90: FloatArray

    def __post_init__(self) -> None:
        for name in ("p10", "median", "p90"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    @classmethod
    def from_samples(cls, samples: FloatArray, *, axis: int = 0) -> Band:
        """Summarise ``samples`` (Monte Carlo draws along ``axis``) as p10/median/p90."""
        p10, median, p90 = _band_percentiles(samples, axis)
        return cls(p10=p10, median=median, p90=p90)

    @classmethod
    def stack_from_samples(cls, stacked: FloatArray, *, axis: int = 1) -> list[Band]:
        """One band per entry along axis 0 of ``stacked``, with draws along ``axis`` (> 0).

        Same values as `from_samples` on each entry, in a single percentile computation.
        """
        if axis < 1:
            raise ValueError(f"axis must be >= 1 (axis 0 lists the quantities); got {axis}")
        p10, median, p90 = _band_percentiles(stacked, axis)
        return [
            cls(p10=lo, median=mid, p90=hi) for lo, mid, hi in zip(p10, median, p90, strict=True)
        ]

    def to_dict(self) -> dict[str, list[float]]:
        """Return ``{"p10": [...], "median": [...], "p90": [...]}`` with plain floats."""
        # ndarray.tolist gives Python floats (the arrays are float64), at C speed.
        return {"p10": self.p10.tolist(), "median": self.median.tolist(), "p90": self.p90.tolist()}


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LegPrediction:
    """Predicted course of one leg.

    Attributes
    ----------
    side : Side
    days : ndarray, shape (n_days,)
        Days since the first injection.
    baseline_calf_girth_cm : float
        The measured maximal calf girth.
    calf_level_cm : float
        Level of maximal girth, below the knee joint line; the tape is re-applied at this level.
    calf_girth_cm, calf_girth_change_cm : Band
        Girth at the calf level and its change from baseline (negative = smaller).
    head_volume_change_frac : mapping of MuscleHead to Band
        Fractional volume change of each muscle (negative = atrophy, positive = compensation).
    head_volume_cm3 : mapping of MuscleHead to float
        Baseline volume of each muscle from the anatomy model.
    head_dose_u : mapping of MuscleHead to tuple of float
        Units per head in each session, in the session's own product units.
    levels_cm : ndarray, shape (n_levels,)
        Levels of the girth profile, below the knee joint line.
    girth_profile_cm : Band or None
        Girth at every level and day: arrays of shape (n_days, n_levels); None when the
        prediction was made without profiles.
    """

    side: Side
    days: FloatArray
    baseline_calf_girth_cm: float
    calf_level_cm: float
    calf_girth_cm: Band
    calf_girth_change_cm: Band
    head_volume_change_frac: Mapping[MuscleHead, Band]
    head_volume_cm3: Mapping[MuscleHead, float]
    head_dose_u: Mapping[MuscleHead, tuple[float, ...]]
    levels_cm: FloatArray
    girth_profile_cm: Band | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "days", _frozen(self.days))
        object.__setattr__(self, "levels_cm", _frozen(self.levels_cm))


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Prediction:
    """A whole prediction: both legs, the model version and how it was sampled."""

    model_version: str
    samples: int
    seed: int | None
    legs: Mapping[Side, LegPrediction]
    tape_error_cm: float
    notes: tuple[str, ...] = field(default_factory=tuple)

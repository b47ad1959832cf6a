"""The layered leg as a value object: tissue cross-sections along one lower leg."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from calfsim.anatomy._tissue import FloatArray, Tissue
from calfsim.domain import LegMeasurements, MuscleHead, Sex, Side
from calfsim.errors import InvalidInputError

__all__ = ["LegAnatomy", "default_head_split_frac"]

#: Relative tolerance for "the tissues sum to the section" (floating-point round-off only).
_SUM_RTOL = 1e-9
_TISSUES = tuple(Tissue)
_TISSUE_SET = frozenset(_TISSUES)


def _frozen(values: FloatArray) -> FloatArray:
    out = np.array(values, dtype=np.float64, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LegAnatomy:
    """Tissue cross-sections along one lower leg, from the knee joint line to the ankle.

    Usually made by :func:`build_leg_anatomy`; a scan fit may build one directly. Arrays are
    copied and made read-only.

    Attributes
    ----------
    side : Side
        Which leg.
    sex : Sex
        Sex whose anthropometric defaults were used (female when the patient's sex is unknown).
    is_sex_assumed : bool
        True if the patient's sex was unknown and female defaults were used.
    measurements : LegMeasurements
        The measurements with every missing value filled in (see ``defaulted``).
    defaulted : frozenset of str
        Names of the ``measurements`` fields that were estimated, not measured.
    levels_cm : ndarray, shape (n_levels,)
        Distance below the knee joint line; starts at 0, strictly increasing, ends at the
        lower-leg length.
    girth_cm : ndarray, shape (n_levels,)
        Outer girth at each level.
    area_cm2 : mapping of Tissue to ndarray, shape (n_levels,)
        Area of each tissue at each level; non-negative, summing to ``girth² / 4π``.
    calf_level_index : int
        Index of the level of maximal calf girth.
    notes : tuple of str
        Plain-language notes on assumptions made for this leg.

    Raises
    ------
    InvalidInputError
        If the arrays are inconsistent (shapes, ordering, negative areas, or tissues that do not
        sum to the section).
    """

    side: Side
    sex: Sex
    is_sex_assumed: bool
    measurements: LegMeasurements
    defaulted: frozenset[str]
    levels_cm: FloatArray
    girth_cm: FloatArray
    area_cm2: Mapping[Tissue, FloatArray]
    calf_level_index: int
    notes: tuple[str, ...] = field(default_factory=tuple)
    _volumes_cm3: Mapping[Tissue, float] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Built twice per API request (one per leg): the checks are vectorised over the
        # tissues, and the tissue arrays are read-only rows of one stacked copy.
        if not isinstance(self.side, Side):
            raise InvalidInputError(f"side must be a Side; got {self.side!r}", field="side")
        if not isinstance(self.sex, Sex):
            raise InvalidInputError(f"sex must be a Sex; got {self.sex!r}", field="sex")
        levels = _frozen(self.levels_cm)
        girth = _frozen(self.girth_cm)
        n = levels.shape[0] if levels.ndim == 1 else 0
        if n < 2 or levels[0] != 0.0 or not (levels[1:] > levels[:-1]).all():
            raise InvalidInputError(
                "levels_cm must be a 1-D array starting at 0 and strictly increasing",
                field="levels_cm",
            )
        if girth.shape != (n,) or not (np.isfinite(girth).all() and girth.min() > 0):
            raise InvalidInputError(
                f"girth_cm must hold {n} finite positive girths", field="girth_cm"
            )
        if len(self.area_cm2) != len(_TISSUES) or set(self.area_cm2) != _TISSUE_SET:
            raise InvalidInputError("area_cm2 must have one entry per Tissue", field="area_cm2")
        given = [np.asarray(self.area_cm2[tissue]) for tissue in _TISSUES]
        total = girth**2 / (4.0 * math.pi)
        # One check over all tissues; the message names the first tissue that fails.
        shapes_ok = all(area.shape == (n,) for area in given)
        stacked = np.array(given, dtype=np.float64) if shapes_ok else None
        if stacked is None or not (np.isfinite(stacked).all() and stacked.min() >= 0.0):
            tissue = next(
                t
                for t, a in zip(_TISSUES, given, strict=True)
                if a.shape != (n,) or not np.isfinite(a).all() or np.any(a < 0)
            )
            raise InvalidInputError(
                f"area_cm2[{tissue.value}] must hold {n} finite non-negative areas",
                field="area_cm2",
            )
        # np.allclose's test, written out (it is a tenth of the cost here).
        if not (np.abs(stacked.sum(axis=0) - total) <= _SUM_RTOL + _SUM_RTOL * np.abs(total)).all():
            raise InvalidInputError(
                "the tissue areas must sum to the section area girth² / 4π at every level",
                field="area_cm2",
            )
        index = self.calf_level_index
        if isinstance(index, bool) or not isinstance(index, int | np.integer):
            raise InvalidInputError("calf_level_index must be an integer", field="calf_level_index")
        if not 0 <= int(index) < n:
            raise InvalidInputError(
                f"calf_level_index must be in [0, {n - 1}]; got {index}", field="calf_level_index"
            )
        stacked.setflags(write=False)  # its rows below are read-only views
        object.__setattr__(self, "calf_level_index", int(index))
        object.__setattr__(self, "levels_cm", levels)
        object.__setattr__(self, "girth_cm", girth)
        object.__setattr__(
            self, "area_cm2", MappingProxyType(dict(zip(_TISSUES, stacked, strict=True)))
        )
        # Volumes by the trapezoidal rule, once: the Monte Carlo asks for them per request.
        half_steps = (levels[1:] - levels[:-1]) / 2.0
        volumes = (stacked[:, 1:] + stacked[:, :-1]) @ half_steps
        object.__setattr__(
            self,
            "_volumes_cm3",
            MappingProxyType({t: float(v) for t, v in zip(_TISSUES, volumes, strict=True)}),
        )
        object.__setattr__(self, "defaulted", frozenset(self.defaulted))
        object.__setattr__(self, "notes", tuple(self.notes))

    @property
    def n_levels(self) -> int:
        """Number of levels."""
        return int(self.levels_cm.shape[0])

    @property
    def length_cm(self) -> float:
        """Lower-leg length: knee joint line to the lateral malleolus."""
        return float(self.levels_cm[-1])

    @property
    def levels_frac(self) -> FloatArray:
        """Levels as fractions of the lower-leg length, shape (n_levels,), from 0 to 1."""
        return _frozen(self.levels_cm / self.levels_cm[-1])

    @property
    def calf_level_cm(self) -> float:
        """Level of the maximal calf girth, below the knee joint line."""
        return float(self.levels_cm[self.calf_level_index])

    @property
    def calf_girth_cm(self) -> float:
        """Girth at the calf level."""
        return float(self.girth_cm[self.calf_level_index])

    @property
    def total_area_cm2(self) -> FloatArray:
        """Whole-section area ``girth² / 4π`` at each level, shape (n_levels,)."""
        return _frozen(self.girth_cm**2 / (4.0 * math.pi))

    def muscle_area_cm2(self, head: MuscleHead) -> FloatArray:
        """Cross-sectional area of one muscle at each level, shape (n_levels,), read-only."""
        return self.area_cm2[Tissue.from_head(head)]

    def tissue_volume_cm3(self, tissue: Tissue) -> float:
        """Volume of one tissue between the knee joint line and the ankle (trapezoidal rule)."""
        if not isinstance(tissue, Tissue):
            raise InvalidInputError(f"tissue must be a Tissue; got {tissue!r}", field="tissue")
        return self._volumes_cm3[tissue]

    def volume_cm3(self, head: MuscleHead) -> float:
        """Volume of one muscle below the knee joint line (trapezoidal rule over the levels).

        Examples
        --------
        >>> from calfsim.anatomy import build_leg_anatomy
        >>> from calfsim.domain import LegMeasurements, Patient, Side
        >>> leg = build_leg_anatomy(LegMeasurements(calf_girth_cm=36.3), Patient(),
        ...                         side=Side.RIGHT)
        >>> leg.volume_cm3(MuscleHead.GM_MEDIAL) > leg.volume_cm3(MuscleHead.GM_LATERAL)
        True
        """
        return self.tissue_volume_cm3(Tissue.from_head(head))


def default_head_split_frac(anatomy: LegAnatomy) -> dict[MuscleHead, float]:
    """Split a leg-total dose between the gastrocnemius heads in proportion to their volumes.

    The default plan when a protocol gives one number per leg: equal dose density in the two
    heads, none in the soleus.

    Parameters
    ----------
    anatomy : LegAnatomy

    Returns
    -------
    dict of MuscleHead to float
        Fractions for GM_MEDIAL and GM_LATERAL summing to 1, and 0.0 for SOLEUS.

    Examples
    --------
    >>> from calfsim.anatomy import build_leg_anatomy
    >>> from calfsim.domain import LegMeasurements, Patient, Side
    >>> leg = build_leg_anatomy(LegMeasurements(calf_girth_cm=36.3), Patient(), side=Side.LEFT)
    >>> split = default_head_split_frac(leg)
    >>> round(sum(split.values()), 12), split[MuscleHead.SOLEUS]
    (1.0, 0.0)
    """
    medial_cm3 = anatomy.volume_cm3(MuscleHead.GM_MEDIAL)
    lateral_cm3 = anatomy.volume_cm3(MuscleHead.GM_LATERAL)
    total_cm3 = medial_cm3 + lateral_cm3
    return {
        MuscleHead.GM_MEDIAL: medial_cm3 / total_cm3,
        MuscleHead.GM_LATERAL: lateral_cm3 / total_cm3,
        MuscleHead.SOLEUS: 0.0,
    }

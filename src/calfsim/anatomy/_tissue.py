r"""Tissues of the layered leg and the circle geometry that links girth and area.

Every horizontal section of the leg is treated as a circle, so a girth :math:`C` encloses the
area :math:`A = C^2 / 4\pi` and a ring of thickness :math:`t` just inside the girth has the area
:math:`C t - \pi t^2`.
"""

from __future__ import annotations

import math
from enum import Enum
from typing import overload

import numpy as np
from numpy.typing import NDArray

from calfsim.domain import MuscleHead
from calfsim.errors import InvalidInputError

__all__ = ["FloatArray", "Tissue", "annulus_area_cm2", "area_from_girth_cm2", "girth_from_area_cm"]

FloatArray = NDArray[np.float64]


class Tissue(Enum):
    """The layers and compartments of a lower-leg cross-section.

    ``OTHER_MUSCLE`` is everything inside the fascia that is not a gastrocnemius head, the
    soleus or bone: the deep posterior, anterior and lateral compartments, with their tendons,
    vessels and nerves (and, near the knee and the ankle, joint structures).
    """

    SKIN = "skin"
    FAT = "fat"
    GM_MEDIAL = "gm_medial"
    GM_LATERAL = "gm_lateral"
    SOLEUS = "soleus"
    OTHER_MUSCLE = "other_muscle"
    BONE = "bone"

    @classmethod
    def from_head(cls, head: MuscleHead) -> Tissue:
        """Return the tissue of a muscle head.

        Examples
        --------
        >>> Tissue.from_head(MuscleHead.SOLEUS)
        <Tissue.SOLEUS: 'soleus'>
        """
        if not isinstance(head, MuscleHead):
            raise InvalidInputError(
                f"head must be a MuscleHead ({', '.join(h.value for h in MuscleHead)}); "
                f"got {head!r}",
                field="head",
            )
        return cls(head.value)


def _check_non_negative(name: str, values: FloatArray, unit: str) -> None:
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        bad = values[~(np.isfinite(values) & (values >= 0))][0]
        raise InvalidInputError(f"{name} must be finite and >= 0 {unit}; got {bad!r}", field=name)


@overload
def girth_from_area_cm(area_cm2: float) -> float: ...
@overload
def girth_from_area_cm(area_cm2: FloatArray) -> FloatArray: ...
def girth_from_area_cm(area_cm2: float | FloatArray) -> float | FloatArray:
    r"""Girth of a circle of the given area, :math:`C = \sqrt{4 \pi A}` (vectorised).

    Use it to turn a changed total section area (after atrophy or fat change) back into a tape
    girth.

    Parameters
    ----------
    area_cm2 : float or ndarray
        Section area(s) in cm², any shape.

    Returns
    -------
    float or ndarray
        Girth(s) in cm, same shape as the input (a float for a scalar input).

    Raises
    ------
    InvalidInputError
        If an area is negative or not finite.

    Examples
    --------
    >>> round(girth_from_area_cm(100.0), 3)
    35.449
    >>> girth_from_area_cm(np.array([0.0, np.pi]))  # radius 1 cm
    array([0.        , 6.28318531])
    """
    area = np.asarray(area_cm2, dtype=np.float64)
    _check_non_negative("area_cm2", area.reshape(-1), "cm²")
    girth = np.sqrt(4.0 * math.pi * area)
    if girth.ndim == 0:
        return float(girth)
    return girth


@overload
def area_from_girth_cm2(girth_cm: float) -> float: ...
@overload
def area_from_girth_cm2(girth_cm: FloatArray) -> FloatArray: ...
def area_from_girth_cm2(girth_cm: float | FloatArray) -> float | FloatArray:
    r"""Area enclosed by a circular girth, :math:`A = C^2 / 4\pi` (vectorised).

    Parameters
    ----------
    girth_cm : float or ndarray
        Girth(s) in cm, any shape.

    Returns
    -------
    float or ndarray
        Area(s) in cm², same shape as the input (a float for a scalar input).

    Raises
    ------
    InvalidInputError
        If a girth is negative or not finite.

    Examples
    --------
    >>> round(area_from_girth_cm2(35.0), 2)
    97.48
    """
    girth = np.asarray(girth_cm, dtype=np.float64)
    _check_non_negative("girth_cm", girth.reshape(-1), "cm")
    area = girth**2 / (4.0 * math.pi)
    if area.ndim == 0:
        return float(area)
    return area


def annulus_area_cm2(girth_cm: FloatArray, thickness_cm: float | FloatArray) -> FloatArray:
    r"""Area of the ring of thickness ``t`` just inside a circular girth: :math:`C t - \pi t^2`.

    Computed as the difference of the outer and inner disc areas; internal helper, inputs are
    trusted (``0 <= t <= C / 2\pi``).

    Examples
    --------
    >>> annulus_area_cm2(np.array([2 * np.pi]), 1.0)  # the whole unit disc
    array([3.14159265])
    """
    inner_girth_cm = girth_cm - 2.0 * math.pi * np.asarray(thickness_cm, dtype=np.float64)
    result: FloatArray = (girth_cm**2 - inner_girth_cm**2) / (4.0 * math.pi)
    return result

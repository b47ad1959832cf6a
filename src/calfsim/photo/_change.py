r"""How much a leg's silhouette narrows, per level and per side, from the anatomy model.

A photo taken from the front or from behind shows each lower leg as a band between two
contours: the **medial** one (towards the other leg) and the **lateral** one. At a height ``z``
the silhouette is the extent of the leg's horizontal section across the view direction, i.e.
the largest medial and the largest lateral coordinate of the section around the leg axis.

The model's change comes from the 3D deformation that already drives the meshes
(:func:`calfsim.geometry.deform_leg`: each section's muscle bulges flatten by the model's atrophy
of each head and the section is rescaled to the predicted girth). Here the model's own leg mesh
is built for the person's measurements, deformed to the targets, and each skin ring's medial and
lateral extents are compared before and after. The medial gastrocnemius head sits
posteromedially and the lateral one posterolaterally, so each side of the silhouette narrows by
its own amount and where its head is.

The ratios are dimensionless, so they apply to a photo at any scale; the model's extents in cm
relate pixels to centimetres through the person's measured calf girth.

Everything here is pure computation (no image library).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from calfsim.anatomy import LegAnatomy, build_leg_anatomy
from calfsim.domain import MuscleHead, Protocol, Side
from calfsim.errors import InvalidInputError
from calfsim.geometry import build_leg_mesh, deform_leg
from calfsim.simulation import HEADS, LegPrediction, Prediction, predict

__all__ = [
    "BANDS",
    "SilhouetteChange",
    "predict_for_photo",
    "silhouette_change",
    "silhouette_change_from_prediction",
    "silhouette_changes",
]

FloatArray = NDArray[np.float64]

#: Band names a photo can show (the prediction's percentiles).
BANDS = ("median", "p10", "p90")
#: Angular sampling of the model mesh: at 192 vertices per ring the extent of a 12 cm wide calf
#: is sampled every 2 mm along the contour, far below what a photo resolves.
_N_AROUND = 192
#: Atrophy fractions accepted by the deformation.
_ATROPHY_LIMIT = 1.0


def _frozen(values: ArrayLike) -> FloatArray:
    out = np.array(values, dtype=np.float64, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SilhouetteChange:
    """Medial and lateral half-widths of one leg's silhouette, before and after, along the leg.

    Attributes
    ----------
    side : Side
    level_frac : ndarray, shape (n,)
        Positions along the lower leg, 0 at the knee joint line and 1 at the malleolus,
        increasing.
    medial_before_cm, lateral_before_cm : ndarray, shape (n,)
        Largest medial and lateral distance of the skin section from the leg axis, before, cm.
    medial_after_cm, lateral_after_cm : ndarray, shape (n,)
        The same after the change, cm.
    length_cm : float
        Lower-leg length of the model (knee joint line to malleolus), cm.
    calf_level_frac : float
        Level of the maximal calf girth (fraction of ``length_cm``).
    girth_before_cm, girth_after_cm : float
        Tape girth at the calf level before and after, cm.
    label : str
        What the change is, in words (e.g. ``"day 84, median"``).
    girth_band_cm : tuple of 3 float or None
        The predicted calf girth's p10, median and p90 on that day, cm (from a prediction), so
        that a picture of one band can state the range.

    Examples
    --------
    >>> from calfsim.domain import LegMeasurements, Patient
    >>> leg = build_leg_anatomy(LegMeasurements(calf_girth_cm=36.0), Patient(), side=Side.LEFT)
    >>> change = silhouette_change(leg, girth_cm_target=leg.girth_cm * 0.95,
    ...                            gm_atrophy_frac={MuscleHead.GM_MEDIAL: 0.5})
    >>> medial, lateral = change.ratios_at(change.calf_level_frac)
    >>> bool(medial < lateral < 1.0)  # the medial head shrank: that side narrows most
    True
    """

    side: Side
    level_frac: FloatArray
    medial_before_cm: FloatArray
    lateral_before_cm: FloatArray
    medial_after_cm: FloatArray
    lateral_after_cm: FloatArray
    length_cm: float
    calf_level_frac: float
    girth_before_cm: float
    girth_after_cm: float
    label: str = ""
    girth_band_cm: tuple[float, float, float] | None = None

    def __post_init__(self) -> None:
        names = (
            "level_frac",
            "medial_before_cm",
            "lateral_before_cm",
            "medial_after_cm",
            "lateral_after_cm",
        )
        arrays = [_frozen(getattr(self, name)) for name in names]
        n = arrays[0].shape
        if len(n) != 1 or n[0] < 2 or any(a.shape != n for a in arrays):
            raise InvalidInputError(
                "level_frac and the four half-width arrays must be 1-D of the same length (>= 2)",
                field="level_frac",
            )
        if np.any(np.diff(arrays[0]) <= 0):
            raise InvalidInputError("level_frac must increase", field="level_frac")
        if not all(np.all(np.isfinite(a)) and np.all(a > 0) for a in arrays[1:]):
            raise InvalidInputError("half-widths must be finite and positive (cm)", field="width")
        for name, value in zip(names, arrays, strict=True):
            object.__setattr__(self, name, value)

    def ratios_at(self, level_frac: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Medial and lateral after/before ratios at the given levels (1 outside the leg).

        Parameters
        ----------
        level_frac : array_like
            Positions along the lower leg (0 knee joint line, 1 malleolus).

        Returns
        -------
        medial, lateral : ndarray
            Ratios of the half-widths, shape of ``level_frac``.
        """
        t = np.asarray(level_frac, dtype=np.float64)
        medial = np.interp(t, self.level_frac, self.medial_after_cm / self.medial_before_cm, 1, 1)
        lateral = np.interp(
            t, self.level_frac, self.lateral_after_cm / self.lateral_before_cm, 1, 1
        )
        return medial, lateral

    def medial_share_at(self, level_frac: ArrayLike) -> FloatArray:
        """Medial half-width over the whole width (where the axis lies across the silhouette)."""
        t = np.asarray(level_frac, dtype=np.float64)
        share = self.medial_before_cm / (self.medial_before_cm + self.lateral_before_cm)
        result: FloatArray = np.interp(t, self.level_frac, share)
        return result

    def width_before_cm_at(self, level_frac: ArrayLike) -> FloatArray:
        """Silhouette width before the change (medial + lateral), cm."""
        t = np.asarray(level_frac, dtype=np.float64)
        result: FloatArray = np.interp(
            t, self.level_frac, self.medial_before_cm + self.lateral_before_cm
        )
        return result

    @property
    def is_identity(self) -> bool:
        """True when nothing changes (e.g. day 0)."""
        return bool(
            np.allclose(self.medial_after_cm, self.medial_before_cm, rtol=0, atol=1e-9)
            and np.allclose(self.lateral_after_cm, self.lateral_before_cm, rtol=0, atol=1e-9)
        )


def silhouette_change(
    anatomy: LegAnatomy,
    *,
    girth_cm_target: ArrayLike,
    gm_atrophy_frac: Mapping[MuscleHead, float] | None = None,
    label: str = "",
) -> SilhouetteChange:
    """Silhouette half-widths of the model leg before and after a change of its sections.

    Parameters
    ----------
    anatomy : LegAnatomy
        The person's leg (from their measurements).
    girth_cm_target : array_like, shape (n_levels,)
        Girth at every anatomy level after the change, cm.
    gm_atrophy_frac : mapping of MuscleHead to float, optional
        Atrophy of each muscle (positive = smaller), as for :func:`calfsim.geometry.deform_leg`.
    label : str, optional
        What the change is, in words.

    Returns
    -------
    SilhouetteChange
        Sampled at every skin ring of the model mesh between the knee joint line and the
        malleolus.

    Raises
    ------
    InvalidInputError
        If the targets are invalid (see :func:`calfsim.geometry.radial_scale_field`).
    """
    if not isinstance(anatomy, LegAnatomy):
        raise InvalidInputError(f"anatomy must be a LegAnatomy; got {anatomy!r}", field="anatomy")
    mesh = build_leg_mesh(anatomy, n_around=_N_AROUND)
    moved = deform_leg(mesh, anatomy, girth_cm=girth_cm_target, gm_atrophy_frac=gm_atrophy_frac)
    length_m = mesh.knee_height_m - mesh.ankle_height_m
    heights = mesh.skin_ring_heights_m
    keep = (heights <= mesh.knee_height_m + 1e-9) & (heights >= mesh.ankle_height_m - 1e-9)
    rings = mesh.skin_ring_vertex_index[keep]
    frac = (mesh.knee_height_m - heights[keep]) / length_m
    # Medial is towards the midline: -x for the left leg, +x for the right (geometry frame).
    sign = -1.0 if anatomy.side is Side.LEFT else 1.0

    def extents(vertices: FloatArray) -> tuple[FloatArray, FloatArray]:
        medial = sign * (vertices[rings, 0] - mesh.axis_xy_m[0])
        return medial.max(axis=1) * 100.0, (-medial).max(axis=1) * 100.0

    medial_before, lateral_before = extents(mesh.vertices_m)
    medial_after, lateral_after = extents(moved)
    calf = anatomy.calf_level_index
    return SilhouetteChange(
        side=anatomy.side,
        level_frac=frac,
        medial_before_cm=medial_before,
        lateral_before_cm=lateral_before,
        medial_after_cm=medial_after,
        lateral_after_cm=lateral_after,
        length_cm=float(length_m * 100.0),
        calf_level_frac=float(anatomy.levels_cm[calf] / anatomy.length_cm),
        girth_before_cm=float(anatomy.girth_cm[calf]),
        girth_after_cm=float(np.asarray(girth_cm_target, dtype=np.float64)[calf]),
        label=label,
    )


def _check_day_band(day: float, band: str) -> float:
    if isinstance(day, bool) or not isinstance(day, int | float) or not math.isfinite(day):
        raise InvalidInputError(f"day must be a number of days; got {day!r}", field="day")
    if not 0 <= day <= 730:
        raise InvalidInputError(
            f"day must be in [0, 730] days after the first injection; got {day!r}", field="day"
        )
    if band not in BANDS:
        raise InvalidInputError(
            f"band must be one of {', '.join(BANDS)}; got {band!r}", field="band"
        )
    return float(day)


def predict_for_photo(
    protocol: Protocol,
    *,
    day: float,
    n_samples: int = 2000,
    rng: np.random.Generator | int | None = None,
) -> Prediction:
    """Run :func:`calfsim.simulation.predict` for day 0 and ``day``, with girth profiles.

    Parameters
    ----------
    protocol : Protocol
        The person's protocol (its own report days are replaced by 0 and ``day``).
    day : float
        Day after the first injection to show (0-730).
    n_samples : int, default 2000
        Monte Carlo virtual patients.
    rng : numpy.random.Generator, int or None
        Seed or generator; the same seed gives the same picture.

    Returns
    -------
    Prediction

    Raises
    ------
    InvalidInputError
        If ``day`` is out of range or the protocol is refused by ``predict``.
    """
    day = _check_day_band(day, "median")
    days = tuple(sorted({0.0, day}))
    return predict(
        dataclasses.replace(protocol, days=days),
        n_samples=n_samples,
        rng=rng,
        include_profile=True,
    )


def silhouette_change_from_prediction(
    protocol: Protocol, prediction: Prediction, *, side: Side, day: float, band: str = "median"
) -> SilhouetteChange:
    """Return the silhouette change of one leg at ``day`` for a band of the prediction.

    The girth at every level is the band's percentile of the girth profile; each muscle's
    atrophy is its volume change at the same percentile (p10 = the smaller leg, with each
    head's largest atrophy), as in the 3D simulation.

    Parameters
    ----------
    protocol : Protocol
        The protocol the prediction was made from (its measurements build the anatomy).
    prediction : Prediction
        From `predict_for_photo` (it must hold ``day`` and girth profiles).
    side : Side
        Which leg.
    day : float
        Day to show.
    band : {"median", "p10", "p90"}
        Which percentile.

    Returns
    -------
    SilhouetteChange

    Raises
    ------
    InvalidInputError
        If the leg is not in the protocol, or the prediction lacks the day or the profiles.
    """
    day = _check_day_band(day, band)
    if side not in protocol.legs or side not in prediction.legs:
        raise InvalidInputError(
            f"the protocol has no {side.value} leg (it has "
            f"{', '.join(sorted(s.value for s in protocol.legs))})",
            field="side",
        )
    leg: LegPrediction = prediction.legs[side]
    rows = np.flatnonzero(np.isclose(leg.days, day))
    if leg.girth_profile_cm is None or rows.size == 0:
        raise InvalidInputError(
            f"the prediction must hold day {day:g} with girth profiles", field="prediction"
        )
    row = int(rows[0])
    girth = np.asarray(getattr(leg.girth_profile_cm, band)[row], dtype=np.float64)
    atrophy: dict[MuscleHead, float] = {}
    for head in HEADS:
        change = float(getattr(leg.head_volume_change_frac[head], band)[row])
        atrophy[head] = float(np.clip(-change, -_ATROPHY_LIMIT, _ATROPHY_LIMIT))
    anatomy = build_leg_anatomy(protocol.legs[side], protocol.patient, side=side)
    change = silhouette_change(
        anatomy, girth_cm_target=girth, gm_atrophy_frac=atrophy, label=f"day {day:g}, {band}"
    )
    tape = leg.calf_girth_cm
    band_cm = (float(tape.p10[row]), float(tape.median[row]), float(tape.p90[row]))
    return dataclasses.replace(change, girth_band_cm=band_cm)


def silhouette_changes(
    protocol: Protocol,
    *,
    day: float,
    band: str = "median",
    n_samples: int = 2000,
    rng: np.random.Generator | int | None = None,
) -> dict[Side, SilhouetteChange]:
    """Silhouette change of every leg of a protocol at ``day`` for a band.

    Parameters
    ----------
    protocol : Protocol
    day : float
        Day after the first injection (0-730).
    band : {"median", "p10", "p90"}
    n_samples : int, default 2000
        Monte Carlo virtual patients.
    rng : numpy.random.Generator, int or None

    Returns
    -------
    dict of Side to SilhouetteChange

    Raises
    ------
    InvalidInputError
        If the day or band is invalid or the protocol is refused by ``predict``.

    Examples
    --------
    >>> from calfsim.domain import LegDose, LegMeasurements, Patient, Session, ToxinProduct
    >>> protocol = Protocol(patient=Patient(),
    ...     legs={Side.LEFT: LegMeasurements(calf_girth_cm=36.0)},
    ...     sessions=(Session(day=0, product=ToxinProduct.ONABOTULINUMTOXINA,
    ...                       doses_u={Side.LEFT: LegDose(total_u=100)}),), days=(0,))
    >>> change = silhouette_changes(protocol, day=84, n_samples=200, rng=1)[Side.LEFT]
    >>> medial, lateral = change.ratios_at(change.calf_level_frac)
    >>> bool(medial < 1.0 and lateral < 1.0), change.label
    (True, 'day 84, median')
    """
    day = _check_day_band(day, band)
    prediction = predict_for_photo(protocol, day=day, n_samples=n_samples, rng=rng)
    return {
        side: silhouette_change_from_prediction(protocol, prediction, side=side, day=day, band=band)
        for side in protocol.legs
    }

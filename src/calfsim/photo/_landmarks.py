"""Pose landmarks of a photo and whether a leg can be used: the checks and the advice.

Pure computation: the landmarks come from the pose model in :mod:`calfsim.photo._detect`.
A leg is usable when its hip, knee and ankle were seen (visibility), lie inside the photo
(cropped legs come back as extrapolated points with low visibility), the knee is straight, the
lower leg is upright and large enough to trace. Otherwise the leg is refused with a reason and
advice on the photo to take instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from calfsim.domain import Side

__all__ = [
    "ADVICE",
    "LEG_LANDMARKS",
    "MAX_KNEE_BEND_DEG",
    "MAX_TILT_DEG",
    "MIN_LOWER_LEG_PX",
    "MIN_VISIBILITY",
    "Landmark",
    "is_inside",
    "knee_bend_deg",
    "leg_problem",
    "view_problem",
]

#: Landmarks reported for each leg, from the hip down.
LEG_LANDMARKS = ("hip", "knee", "ankle", "heel", "foot_index")
#: Smallest visibility (the pose model's 0-1 score) for a hip, knee or ankle to count as seen.
#: Cropped or hidden joints come back extrapolated with scores mostly under 0.5.
MIN_VISIBILITY = 0.5
#: Largest bend of the knee (180 deg minus the hip-knee-ankle angle): a relaxed standing knee
#: is within 10-15 deg of straight; more and the calf is foreshortened and twisted.
MAX_KNEE_BEND_DEG = 25.0
#: Largest tilt of the knee-ankle line from the image vertical (camera held upright, person
#: standing): the warp moves pixels along image rows.
MAX_TILT_DEG = 20.0
#: Shortest knee-ankle distance, pixels, for the contour to be traced usefully.
MIN_LOWER_LEG_PX = 60.0
#: Smallest distance between the hips relative to the knee-ankle length in a front or back view
#: (about 0.4-0.7 facing the camera, near 0 turned sideways).
MIN_HIP_SPACING_RATIO = 0.15
#: Landmarks must lie this far (fraction of the side) inside the photo.
_BORDER_FRAC = 0.005

#: What to do instead, for each reason a leg is refused.
ADVICE = {
    "hidden": "take a full-length photo in good light, both legs uncovered or in tight leggings, "
    "nothing in front of them",
    "cropped": "take a full-length photo with both feet and knees inside the frame",
    "bent": "stand straight with both knees straight and the weight on both feet",
    "tilted": "hold the camera upright at knee height, the person standing straight",
    "small": "step closer, or crop less: the lower legs should fill about a third of the photo",
    "overlap": "stand facing the camera (or with the back to it), feet hip-width apart so that "
    "the calves do not touch",
    "view": "stand facing the camera or with the back to it, not turned sideways",
    "contour": "use a plain background that contrasts with the legs",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Landmark:
    """One pose landmark in pixels of the upright photo.

    Attributes
    ----------
    name : str
        ``"left_knee"``, ``"right_ankle"``... (the person's left and right).
    x_px, y_px : float
    visibility : float
        The pose model's score that the point is visible, 0-1.
    is_in_image : bool
    """

    name: str
    x_px: float
    y_px: float
    visibility: float
    is_in_image: bool

    @property
    def xy(self) -> tuple[float, float]:
        """``(x_px, y_px)``."""
        return (self.x_px, self.y_px)

    def is_seen(self) -> bool:
        """Visible enough and inside the photo."""
        return self.is_in_image and self.visibility >= MIN_VISIBILITY


def is_inside(x_px: float, y_px: float, width: int, height: int) -> bool:
    """Whether a point lies inside the photo, away from its border."""
    mx, my = _BORDER_FRAC * width, _BORDER_FRAC * height
    return bool(mx <= x_px <= width - 1 - mx and my <= y_px <= height - 1 - my)


def knee_bend_deg(hip: Landmark, knee: Landmark, ankle: Landmark) -> float:
    """Bend of the knee: 180 deg minus the hip-knee-ankle angle (0 = straight).

    Examples
    --------
    >>> hip = Landmark(name="left_hip", x_px=0, y_px=0, visibility=1, is_in_image=True)
    >>> knee = Landmark(name="left_knee", x_px=0, y_px=10, visibility=1, is_in_image=True)
    >>> ankle = Landmark(name="left_ankle", x_px=10, y_px=10, visibility=1, is_in_image=True)
    >>> round(knee_bend_deg(hip, knee, ankle), 1)
    90.0
    """
    a = np.subtract(hip.xy, knee.xy)
    b = np.subtract(ankle.xy, knee.xy)
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    if norm == 0.0:
        return 180.0
    cos = float(np.clip(np.dot(a, b) / norm, -1.0, 1.0))
    return 180.0 - math.degrees(math.acos(cos))


def leg_problem(
    side: Side, hip: Landmark, knee: Landmark, ankle: Landmark
) -> tuple[str, str] | None:
    """Why a leg cannot be used, as ``(reason, message)``; None when it can.

    ``reason`` is a key of `ADVICE`.

    Examples
    --------
    >>> def lm(name, x, y, v=0.99):
    ...     return Landmark(name=name, x_px=x, y_px=y, visibility=v, is_in_image=True)
    >>> leg_problem(Side.LEFT, lm("left_hip", 100, 100), lm("left_knee", 100, 300),
    ...             lm("left_ankle", 105, 480)) is None
    True
    >>> leg_problem(Side.LEFT, lm("left_hip", 100, 100), lm("left_knee", 100, 300),
    ...             lm("left_ankle", 105, 480, v=0.2))[0]
    'hidden'
    """
    for point in (hip, knee, ankle):
        if not point.is_in_image:
            return "cropped", f"the {side.value} {point.name.split('_')[-1]} is outside the photo"
    for point in (hip, knee, ankle):
        if point.visibility < MIN_VISIBILITY:
            return (
                "hidden",
                f"the {side.value} {point.name.split('_')[-1]} is hidden or unclear "
                f"(visibility {point.visibility:.2f} < {MIN_VISIBILITY})",
            )
    bend = knee_bend_deg(hip, knee, ankle)
    if bend > MAX_KNEE_BEND_DEG:
        return (
            "bent",
            f"the {side.value} knee is bent by {bend:.0f} deg (at most {MAX_KNEE_BEND_DEG:g})",
        )
    dx, dy = ankle.x_px - knee.x_px, ankle.y_px - knee.y_px
    length = math.hypot(dx, dy)
    if dy <= 0:
        return "bent", f"the {side.value} ankle is not below the knee"
    tilt = math.degrees(math.atan2(abs(dx), dy))
    if tilt > MAX_TILT_DEG:
        return (
            "tilted",
            f"the {side.value} lower leg is tilted {tilt:.0f} deg from vertical "
            f"(at most {MAX_TILT_DEG:g})",
        )
    if length < MIN_LOWER_LEG_PX:
        return (
            "small",
            f"the {side.value} lower leg is only {length:.0f} pixels long "
            f"(at least {MIN_LOWER_LEG_PX:g})",
        )
    return None


def view_problem(
    left_hip: Landmark,
    right_hip: Landmark,
    lower_leg_px: float,
) -> tuple[str, str] | None:
    """Why the view is unsuitable (turned sideways), as ``(reason, message)``; None if fine.

    Parameters
    ----------
    left_hip, right_hip : Landmark
    lower_leg_px : float
        A knee-ankle distance of the photo, pixels.

    Examples
    --------
    >>> def hip(name, x):
    ...     return Landmark(name=name, x_px=x, y_px=300, visibility=0.99, is_in_image=True)
    >>> view_problem(hip("left_hip", 250), hip("right_hip", 200), 180.0) is None
    True
    >>> view_problem(hip("left_hip", 205), hip("right_hip", 200), 180.0)[0]
    'view'
    """
    if not (left_hip.is_seen() and right_hip.is_seen()) or lower_leg_px <= 0:
        return None
    spacing = abs(left_hip.x_px - right_hip.x_px) / lower_leg_px
    if spacing < MIN_HIP_SPACING_RATIO:
        return (
            "view",
            f"the hips are only {spacing:.2f} x the lower leg apart: the person seems turned "
            "sideways",
        )
    return None

"""Finding the person and tracing each calf in a photo (MediaPipe pose, OpenCV).

The pose model is MediaPipe's legacy pose solution (``model_complexity=1`` with segmentation),
the only one whose weights ship inside its wheel (mediapipe 0.10.21): nothing is downloaded.
It runs on a copy of the photo scaled to `DETECT_LONG_SIDE_PX`; the landmarks are mapped back to
the full photo. Its person mask is computed at 256 x 256 inside the model, so the calf contour
is refined at full resolution in a narrow window around the mask's edge
(:mod:`calfsim.photo._contour`). A second model (MediaPipe selfie segmentation, also shipped)
sees every person in the photo, to refuse photos with more than one.

One detector per process (`PoseDetector.get`): building the graph costs a few hundred ms.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from calfsim.domain import Side
from calfsim.errors import InvalidInputError, MissingExtraError
from calfsim.photo._contour import LegContour, subpixel_peak, trace_edge
from calfsim.photo._landmarks import (
    ADVICE,
    LEG_LANDMARKS,
    Landmark,
    is_inside,
    leg_problem,
    view_problem,
)

__all__ = [
    "DETECT_LONG_SIDE_PX",
    "LegFinding",
    "PhotoLegs",
    "PoseDetector",
    "find_legs_in_photo",
]

FloatArray = NDArray[np.float64]

#: Long side of the copy the pose model sees, pixels (it works at 256 x 256 inside; a larger
#: copy only costs conversion time).
DETECT_LONG_SIDE_PX = 1024
#: A second person: a separate region of the selfie mask at least this large relative to the
#: person found (children and people further back count; a hand or a pet rarely does).
_OTHER_PERSON_AREA_RATIO = 0.25
#: Half-width of the window searched for the edge around the mask's boundary, as a fraction of
#: the knee-ankle distance (the mask's edge is within ~2% of it), and its minimum in pixels.
_SEARCH_FRAC = 0.035
_SEARCH_MIN_PX = 5
#: The leg's silhouette width must be within this range of its knee-ankle length (a calf is
#: 25-45% as wide as the lower leg is long; two legs touching are far wider).
_WIDTH_RATIO_RANGE = (0.1, 0.6)
#: Most rows the dynamic programme runs on (longer legs are decimated, then refined per row).
_DP_MAX_ROWS = 250

_MP_INDEX = {
    "nose": 0,
    "left_shoulder": 11,
    "right_shoulder": 12,
    "left_hip": 23,
    "right_hip": 24,
    "left_knee": 25,
    "right_knee": 26,
    "left_ankle": 27,
    "right_ankle": 28,
    "left_heel": 29,
    "right_heel": 30,
    "left_foot_index": 31,
    "right_foot_index": 32,
}
VIEWS = ("auto", "front", "back")


#: MediaPipe's native logging (absl: "W0000 ... inference_feedback_manager ...") and TensorFlow
#: Lite's ("INFO: Created TensorFlow Lite XNNPACK delegate for CPU.") go straight to file
#: descriptor 2 while the models load and run for the first time. absl ignores the glog/TF
#: environment variables, so unless the user set ``GLOG_minloglevel`` (to see them), stderr is
#: pointed at /dev/null during the detector's construction and first run (once per process).
_QUIET_NATIVE_LOGS = {"GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "3"}
_USER_LOG_LEVEL = "GLOG_minloglevel" in os.environ


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for the block (no-op when the user asked for logs)."""
    if _USER_LOG_LEVEL:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        null = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError):  # pragma: no cover - no real stderr (embedded, closed)
        yield
        return
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def _import_mediapipe() -> tuple[Any, Any]:
    for name, value in _QUIET_NATIVE_LOGS.items():
        os.environ.setdefault(name, value)
    try:
        import cv2
        import mediapipe as mp
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise MissingExtraError(
            f"the photo try-on needs the 'photo' extra ({exc.name} is missing): "
            "pip install 'calfsim[photo]' && pip install --no-deps mediapipe==0.10.21 "
            "(see docs/photo.md)"
        ) from None
    return mp, cv2


class PoseDetector:
    """The pose and selfie-segmentation models, built once per process (thread-safe use)."""

    _instance: ClassVar[PoseDetector | None] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self) -> None:
        mp, _ = _import_mediapipe()
        self._pose = mp.solutions.pose.Pose(
            static_image_mode=True,
            model_complexity=1,
            enable_segmentation=True,
            min_detection_confidence=0.5,
        )
        self._selfie = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0)
        self._run_lock = threading.Lock()
        self._has_run = False

    @classmethod
    def get(cls) -> PoseDetector:
        """Return the process-wide detector (built on first use)."""
        with cls._lock:
            if cls._instance is None:
                with _quiet_native_stderr():
                    cls._instance = PoseDetector()
            return cls._instance

    def run(self, rgb: NDArray[np.uint8]) -> tuple[Any, NDArray[np.float32] | None]:
        """Pose result and selfie mask of an RGB image (the pose model's own objects)."""
        with self._run_lock:
            # The models load lazily: their log lines come with the first run.
            quiet = contextlib.nullcontext() if self._has_run else _quiet_native_stderr()
            with quiet:
                pose = self._pose.process(rgb)
                selfie = self._selfie.process(rgb).segmentation_mask
            self._has_run = True
        return pose, None if selfie is None else np.asarray(selfie, dtype=np.float32)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LegFinding:
    """What was found of one leg: its contour, or why it cannot be used.

    Attributes
    ----------
    side : Side
    contour : LegContour or None
        The traced leg when usable.
    reason : str or None
        Key of :data:`calfsim.photo.ADVICE` when refused (``"bent"``, ``"cropped"``...).
    message : str
        What was found, in words.
    advice : str
        What photo to take instead (empty when usable).
    """

    side: Side
    contour: LegContour | None
    reason: str | None = None
    message: str = ""
    advice: str = ""

    @property
    def is_usable(self) -> bool:
        """True when the leg was traced."""
        return self.contour is not None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PhotoLegs:
    """The person and legs found in a photo.

    Attributes
    ----------
    width_px, height_px : int
        Size of the (upright) photo.
    landmarks : mapping of str to Landmark
        Hips, knees, ankles, heels and foot tips (plus nose and shoulders), full-photo pixels.
    legs : mapping of Side to LegFinding
    view : str
        ``"front"`` or ``"back"`` as assumed (``auto``: the pose model's left/right labels are
        trusted, which implies a front view when the left leg is on the image right).
    person_mask : ndarray of float32, shape (h, w)
        The pose model's person mask on the detection copy (0-1), for the record.
    detect_scale : float
        Detection copy size over the photo size.
    """

    width_px: int
    height_px: int
    landmarks: MappingProxyType[str, Landmark]
    legs: MappingProxyType[Side, LegFinding]
    view: str
    person_mask: NDArray[np.float32] = field(repr=False)
    detect_scale: float = 1.0

    @property
    def usable_sides(self) -> tuple[Side, ...]:
        """Legs that were traced."""
        return tuple(side for side, leg in self.legs.items() if leg.is_usable)


def _count_others(person: NDArray[np.bool_], selfie: NDArray[np.float32] | None, cv2: Any) -> int:
    """Regions of the selfie mask that are people other than the one the pose model found."""
    if selfie is None:
        return 0
    n, labels, stats, _ = cv2.connectedComponentsWithStats((selfie > 0.5).astype(np.uint8))
    area = max(int(person.sum()), 1)
    others = 0
    for k in range(1, n):
        size = int(stats[k, cv2.CC_STAT_AREA])
        if size < _OTHER_PERSON_AREA_RATIO * area:
            continue
        overlap = int(np.count_nonzero(person[labels == k]))
        if overlap < 0.2 * size:
            others += 1
    return others


def _run_bounds(mask: NDArray[np.bool_], cols: NDArray[np.int64]) -> tuple[FloatArray, FloatArray]:
    """First and last column of the run of True holding ``cols[i]`` in each row ``i``.

    Rows where that column is False (or outside the mask) get NaN.
    """
    n_rows, n_cols = mask.shape
    index = np.arange(n_cols)
    last_false = np.maximum.accumulate(np.where(mask, -1, index[None, :]), axis=1)
    next_false = np.minimum.accumulate(np.where(mask, n_cols, index[None, :])[:, ::-1], axis=1)[
        :, ::-1
    ]
    rows = np.arange(n_rows)
    inside = (cols >= 0) & (cols < n_cols)
    c = np.clip(cols, 0, n_cols - 1)
    ok = inside & mask[rows, c]
    left = np.where(ok, last_false[rows, c] + 1, np.nan)
    right = np.where(ok, next_false[rows, c] - 1, np.nan)
    return left.astype(np.float64), right.astype(np.float64)


def _edge_strength(roi: NDArray[np.uint8], sigma: float, cv2: Any) -> NDArray[np.float32]:
    """Horizontal colour-edge strength of an image region, normalised to ~0-1."""
    blurred = cv2.GaussianBlur(roi, (0, 0), sigma) if sigma > 0 else roi
    gx = cv2.Sobel(blurred, cv2.CV_32F, 1, 0, ksize=3)
    strength = np.abs(gx).sum(axis=2) if gx.ndim == 3 else np.abs(gx)
    scale = float(np.percentile(strength, 95)) + 1e-3
    result: NDArray[np.float32] = np.minimum(strength / scale, 1.5).astype(np.float32)
    return result


def _follow(strength: NDArray[np.float32], rough: FloatArray, halfwidth: int) -> FloatArray:
    """Trace one contour near the rough boundary (columns of ``strength``), sub-pixel."""
    n_rows, n_cols = strength.shape
    offsets = np.arange(-halfwidth, halfwidth + 1)
    rows = np.arange(n_rows)
    centre = np.rint(rough).astype(np.int64)
    cols = np.clip(centre[:, None] + offsets[None, :], 0, n_cols - 1)
    band = strength[rows[:, None], cols]
    every = max(1, -(-n_rows // _DP_MAX_ROWS))
    coarse_rows = np.arange(0, n_rows, every)
    path = trace_edge(
        band[coarse_rows],
        np.full(coarse_rows.size, float(halfwidth)),
        max_step=max(1, every),
        prior_halfwidth=float(halfwidth),
    )
    guess = np.rint(np.interp(rows, coarse_rows, path)).astype(np.int64)
    if every > 1:
        reach = np.arange(-every, every + 1)
        local = np.clip(guess[:, None] + reach[None, :], 0, 2 * halfwidth)
        guess = local[rows, np.argmax(band[rows[:, None], local], axis=1)]
    refined = subpixel_peak(band, guess)
    result: FloatArray = centre + refined - halfwidth
    return result


def _trace_leg(
    side: Side,
    rgb: NDArray[np.uint8],
    mask_small: NDArray[np.float32],
    scale: float,
    knee: Landmark,
    ankle: Landmark,
    other_axis_x: float | None,
    is_medial_left: bool,
    cv2: Any,
) -> LegFinding:
    width = rgb.shape[1]
    length = float(np.hypot(ankle.x_px - knee.x_px, ankle.y_px - knee.y_px))
    halfwidth = max(_SEARCH_MIN_PX, round(_SEARCH_FRAC * length))
    y0, y1 = round(knee.y_px), round(ankle.y_px)
    rows = np.arange(y0, y1 + 1)
    axis_x = knee.x_px + (rows - knee.y_px) * (ankle.x_px - knee.x_px) / (ankle.y_px - knee.y_px)
    reach = 0.8 * length
    x0 = max(0, int(min(knee.x_px, ankle.x_px) - reach))
    x1 = min(width, int(max(knee.x_px, ankle.x_px) + reach) + 1)
    # The person mask over this region, at full resolution.
    sx0, sx1 = int(x0 * scale), min(mask_small.shape[1], int(np.ceil(x1 * scale)) + 1)
    sy0, sy1 = int(y0 * scale), min(mask_small.shape[0], int(np.ceil((y1 + 1) * scale)) + 1)
    crop = mask_small[sy0:sy1, sx0:sx1]
    mask = cv2.resize(crop, (round((sx1 - sx0) / scale), round((sy1 - sy0) / scale)))
    off_x, off_y = x0 - sx0 / scale, y0 - sy0 / scale
    mask_rows = np.clip(np.rint(rows - y0 + off_y).astype(np.int64), 0, mask.shape[0] - 1)
    mask_cols = np.rint(axis_x - x0 + off_x).astype(np.int64)
    lefts, rights = _run_bounds(mask[mask_rows] > 0.5, mask_cols)
    if np.isnan(lefts).any():
        return LegFinding(
            side=side,
            contour=None,
            reason="hidden",
            message=f"the {side.value} calf is not in the person mask between knee and ankle",
            advice=ADVICE["hidden"],
        )
    lefts = lefts - off_x + x0 - 0.5
    rights = rights - off_x + x0 + 0.5
    widths = rights - lefts
    ratio = float(np.median(widths)) / length
    is_merged = other_axis_x is not None and bool(
        np.median(lefts) < other_axis_x < np.median(rights)
    )
    if is_merged or not _WIDTH_RATIO_RANGE[0] <= ratio <= _WIDTH_RATIO_RANGE[1]:
        return LegFinding(
            side=side,
            contour=None,
            reason="overlap",
            message=f"the {side.value} calf cannot be separated from the other leg or the "
            f"background (width {ratio:.2f} x its length)",
            advice=ADVICE["overlap"],
        )
    # Refine each contour at full resolution in a window around the mask's edge.
    rx0 = max(0, int(np.floor(lefts.min())) - halfwidth - 2)
    rx1 = min(width, int(np.ceil(rights.max())) + halfwidth + 3)
    roi = rgb[y0 : y1 + 1, rx0:rx1]
    strength = _edge_strength(roi, max(0.0, length / 600.0), cv2)
    left = _follow(strength, lefts - rx0, halfwidth) + rx0
    right = _follow(strength, rights - rx0, halfwidth) + rx0
    contrast = (
        float(
            np.mean(
                strength[
                    np.arange(rows.size), np.clip(np.rint(left - rx0).astype(int), 0, rx1 - rx0 - 1)
                ]
            )
            + np.mean(
                strength[
                    np.arange(rows.size),
                    np.clip(np.rint(right - rx0).astype(int), 0, rx1 - rx0 - 1),
                ]
            )
        )
        / 2.0
    )
    if np.any(right - left <= 2.0):
        return LegFinding(
            side=side,
            contour=None,
            reason="contour",
            message=f"the {side.value} calf's outline could not be traced",
            advice=ADVICE["contour"],
        )
    contour = LegContour(
        side=side,
        y_px=rows.astype(np.float64),
        left_x_px=left,
        right_x_px=right,
        is_medial_left=is_medial_left,
        knee_xy_px=knee.xy,
        ankle_xy_px=ankle.xy,
        edge_contrast=min(1.0, contrast),
    )
    return LegFinding(side=side, contour=contour, message=f"the {side.value} calf was traced")


def find_legs_in_photo(rgb: NDArray[np.uint8], *, view: str = "auto") -> PhotoLegs:
    """Find the person's hips, knees and ankles, and trace each usable calf's contours.

    Parameters
    ----------
    rgb : ndarray of uint8, shape (h, w, 3)
        The upright photo (:func:`calfsim.photo.read_photo`).
    view : {"auto", "front", "back"}
        How the photo was taken. ``front``: the person faces the camera (their left leg is on
        the image right); ``back``: seen from behind; ``auto`` trusts the pose model's labels.

    Returns
    -------
    PhotoLegs
        Legs that cannot be used are in ``legs`` with the reason and advice.

    Raises
    ------
    InvalidInputError
        ``field="photo"`` when no person or more than one person is found; ``field="view"``
        for an unknown view.
    MissingExtraError
        If the 'photo' extra is not installed.
    """
    if view not in VIEWS:
        raise InvalidInputError(
            f"view must be one of {', '.join(VIEWS)}; got {view!r}", field="view"
        )
    _, cv2 = _import_mediapipe()
    height, width = rgb.shape[:2]
    # An integer factor: OpenCV's area resize is then a fast block average (a fractional one
    # costs ~10x more at 12 MP). The last few rows and columns may be left out of detection.
    factor = -(-max(height, width) // DETECT_LONG_SIDE_PX)
    scale = 1.0 / factor
    small = (
        rgb
        if factor == 1
        else cv2.resize(
            rgb[: height - height % factor, : width - width % factor],
            (width // factor, height // factor),
            interpolation=cv2.INTER_AREA,
        )
    )
    sh, sw = small.shape[:2]
    pose, selfie = PoseDetector.get().run(np.ascontiguousarray(small))
    if pose.pose_landmarks is None or pose.segmentation_mask is None:
        raise InvalidInputError(
            "no person was found in the photo; " + ADVICE["cropped"], field="photo"
        )
    person_mask = np.asarray(pose.segmentation_mask, dtype=np.float32)
    n_others = _count_others(person_mask > 0.5, selfie, cv2)
    if n_others:
        raise InvalidInputError(
            f"the photo shows {n_others + 1} people; take a photo of the person alone",
            field="photo",
        )
    raw = pose.pose_landmarks.landmark
    landmarks: dict[str, Landmark] = {}
    for name, index in _MP_INDEX.items():
        point = raw[index]
        x, y = float(point.x) * sw / scale, float(point.y) * sh / scale
        landmarks[name] = Landmark(
            name=name,
            x_px=x,
            y_px=y,
            visibility=float(point.visibility),
            is_in_image=is_inside(x, y, width, height),
        )
    # Which label is which leg: the model names them as if facing the camera.
    swap = False
    left_x, right_x = landmarks["left_hip"].x_px, landmarks["right_hip"].x_px
    if view == "front":
        swap = left_x < right_x
    elif view == "back":
        swap = left_x > right_x
    if swap:
        landmarks = {
            name: Landmark(
                name=name,
                x_px=landmarks[_swap_name(name)].x_px,
                y_px=landmarks[_swap_name(name)].y_px,
                visibility=landmarks[_swap_name(name)].visibility,
                is_in_image=landmarks[_swap_name(name)].is_in_image,
            )
            for name in landmarks
        }
    is_front = landmarks["left_hip"].x_px > landmarks["right_hip"].x_px
    problems: dict[Side, tuple[str, str] | None] = {}
    for side in (Side.LEFT, Side.RIGHT):
        s = side.value
        problems[side] = leg_problem(
            side, landmarks[f"{s}_hip"], landmarks[f"{s}_knee"], landmarks[f"{s}_ankle"]
        )
    shins = [
        float(np.hypot(*np.subtract(landmarks[f"{s}_ankle"].xy, landmarks[f"{s}_knee"].xy)))
        for s in ("left", "right")
    ]
    turned = view_problem(landmarks["left_hip"], landmarks["right_hip"], max(shins))
    if turned is not None:
        problems = {side: problems[side] or turned for side in problems}
    legs: dict[Side, LegFinding] = {}
    for side in (Side.LEFT, Side.RIGHT):
        problem = problems[side]
        if problem is not None:
            legs[side] = LegFinding(
                side=side,
                contour=None,
                reason=problem[0],
                message=problem[1],
                advice=ADVICE[problem[0]],
            )
            continue
        other = Side.RIGHT if side is Side.LEFT else Side.LEFT
        o = other.value
        other_axis = None
        if problems[other] is None:
            ok, oa = landmarks[f"{o}_knee"], landmarks[f"{o}_ankle"]
            other_axis = 0.5 * (ok.x_px + oa.x_px)
        legs[side] = _trace_leg(
            side,
            rgb,
            person_mask,
            scale,
            landmarks[f"{side.value}_knee"],
            landmarks[f"{side.value}_ankle"],
            other_axis,
            # Medial is towards the other hip (robust on one leg, unlike the body's midline).
            landmarks[f"{o}_hip"].x_px < landmarks[f"{side.value}_hip"].x_px,
            cv2,
        )
    return PhotoLegs(
        width_px=width,
        height_px=height,
        landmarks=MappingProxyType(landmarks),
        legs=MappingProxyType(legs),
        view="front" if is_front else "back",
        person_mask=person_mask,
        detect_scale=scale,
    )


def _swap_name(name: str) -> str:
    if name.startswith("left_"):
        return "right_" + name[5:]
    if name.startswith("right_"):
        return "left_" + name[6:]
    return name


_ = LEG_LANDMARKS  # the names reported per leg are the keys of _MP_INDEX

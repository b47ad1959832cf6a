"""The photo try-on: the person's own photo, warped by the model's change (OpenCV, Pillow).

`tryon_photo` composes the steps: find and trace the legs (:mod:`calfsim.photo._detect`),
turn each leg's model change into row-by-row contour moves and a coarse backward map over the
lower legs (:mod:`calfsim.photo._field`), upsample it and remap only that region at full
resolution with ``cv2.remap`` (bicubic). Pixels outside the region are copied unchanged, and
so are those inside it that do not move. `compare_image` draws the labelled before/after pair
and `tryon_to_dict` the JSON record (landmarks, contours, displacements in px and cm).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from calfsim.domain import Side
from calfsim.errors import InvalidInputError
from calfsim.photo._change import SilhouetteChange
from calfsim.photo._detect import PhotoLegs, _import_mediapipe, find_legs_in_photo
from calfsim.photo._field import LegDisplacement, WarpGrid, leg_displacement, warp_grid

__all__ = [
    "TryOn",
    "compare_image",
    "remap_region",
    "tryon_photo",
    "tryon_to_dict",
    "warp_photo",
]

#: The photo's knee-ankle length (converted to cm by the girth scale) may differ from the
#: model's by this factor before a note says so (clothing, an oblique view, a short person
#: with the default leg length).
_LENGTH_RATIO_NOTE = 1.3
#: What each band means to the person, for the comparison's caption.
_BAND_WORDS = {
    "median": "the typical (median) response",
    "p10": "a strong response (p10: only 1 person in 10 changes more)",
    "p90": "a weak response (p90: 9 people in 10 change more)",
}
#: Levels reported in the JSON, as fractions of the lower leg.
_N_REPORT_LEVELS = 21


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class TryOn:
    """Result of `tryon_photo`.

    Attributes
    ----------
    before, after : ndarray of uint8, shape (h, w, 3)
        The upright photo and the warped one (same size).
    legs : PhotoLegs
        What was found (landmarks, contours, refusals).
    changes : mapping of Side to SilhouetteChange
        The model's change of each warped leg.
    displacements : mapping of Side to LegDisplacement
        Contour moves of each warped leg, pixels.
    cm_per_px : mapping of Side to float
        Scale of each warped leg, from its calf width in the photo and the model's width for
        the person's measured girth.
    label : str
        What is shown (e.g. ``"day 84, median"``).
    notes : tuple of str
        Legs left unchanged and why; checks that did not pass.
    """

    before: NDArray[np.uint8] = field(repr=False)
    after: NDArray[np.uint8] = field(repr=False)
    legs: PhotoLegs
    changes: Mapping[Side, SilhouetteChange]
    displacements: Mapping[Side, LegDisplacement]
    cm_per_px: Mapping[Side, float]
    label: str = ""
    notes: tuple[str, ...] = ()


def remap_region(rgb: NDArray[np.uint8], grid: WarpGrid) -> NDArray[np.uint8]:
    """Apply a coarse backward map to its region of the photo (a new array is returned).

    Parameters
    ----------
    rgb : ndarray of uint8, shape (h, w, 3)
    grid : WarpGrid

    Returns
    -------
    ndarray of uint8, shape (h, w, 3)
        A copy with the region remapped (bicubic); unmoved pixels are bit-identical.
    """
    _, cv2 = _import_mediapipe()
    out = rgb.copy()
    if grid.is_empty:
        return out
    height, width = rgb.shape[:2]
    n_rows, n_cols = grid.dx.shape
    dense = cv2.resize(
        grid.dx, (n_cols * grid.step, n_rows * grid.step), interpolation=cv2.INTER_LINEAR
    )
    h = min(dense.shape[0], height - grid.y0)
    w = min(dense.shape[1], width - grid.x0)
    dx = dense[:h, :w]
    xs = np.arange(grid.x0, grid.x0 + w, dtype=np.float32)
    ys = np.arange(grid.y0, grid.y0 + h, dtype=np.float32)
    map_x = xs[None, :] + dx
    map_y = np.broadcast_to(ys[:, None], (h, w)).astype(np.float32)
    warped = cv2.remap(
        rgb, map_x, map_y, interpolation=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    region = out[grid.y0 : grid.y0 + h, grid.x0 : grid.x0 + w]
    moved = dx != 0
    region[moved] = warped[moved]
    return out


def _grid_step(displacements: Mapping[Side, LegDisplacement]) -> int:
    lengths = [float(d.y_px[-1] - d.y_px[0]) for d in displacements.values()]
    return int(np.clip(round(max(lengths) / 120.0), 1, 8))


def warp_photo(
    rgb: NDArray[np.uint8], displacements: Mapping[Side, LegDisplacement] | list[LegDisplacement]
) -> NDArray[np.uint8]:
    """Move the contours of every leg by its displacement (the warp step alone).

    Parameters
    ----------
    rgb : ndarray of uint8, shape (h, w, 3)
    displacements : mapping of Side to LegDisplacement, or a list
        Every traced leg (unchanged legs too: they limit the others' fades).

    Returns
    -------
    ndarray of uint8, shape (h, w, 3)
    """
    items = (
        list(displacements.values()) if isinstance(displacements, Mapping) else list(displacements)
    )
    if not items:
        return rgb.copy()
    step = _grid_step({d.side: d for d in items})
    grid = warp_grid(items, image_shape=rgb.shape[:2], step=step)
    return remap_region(rgb, grid)


def tryon_photo(
    rgb: NDArray[np.uint8],
    changes: Mapping[Side, SilhouetteChange],
    *,
    view: str = "auto",
    legs: PhotoLegs | None = None,
) -> TryOn:
    """Warp a photo's calves by the model's change of each leg.

    Parameters
    ----------
    rgb : ndarray of uint8, shape (h, w, 3)
        The upright photo (:func:`calfsim.photo.read_photo`).
    changes : mapping of Side to SilhouetteChange
        The model's change per leg (:func:`calfsim.photo.silhouette_changes`); legs without
        one stay as they are.
    view : {"auto", "front", "back"}
        How the photo was taken (see :func:`calfsim.photo.find_legs_in_photo`).
    legs : PhotoLegs, optional
        Legs already found in this photo (skips the detection).

    Returns
    -------
    TryOn

    Raises
    ------
    InvalidInputError
        ``field="photo"`` when no person, several people, or no usable leg with a change is
        found (one problem per leg, each with advice on the photo to take).
    """
    found = find_legs_in_photo(rgb, view=view) if legs is None else legs
    wanted = [s for s in (Side.LEFT, Side.RIGHT) if s in changes]
    usable = [s for s in wanted if found.legs[s].is_usable]
    if not usable:
        problems = tuple(
            f"{found.legs[s].message}: {found.legs[s].advice}"
            for s in wanted
            if not found.legs[s].is_usable
        ) or ("the photo shows no leg the change applies to",)
        raise InvalidInputError(
            "no leg can be shown in this photo: " + "; ".join(problems),
            field="photo",
            problems=problems,
        )
    notes: list[str] = []
    displacements: dict[Side, LegDisplacement] = {}
    cm_per_px: dict[Side, float] = {}
    for side in (Side.LEFT, Side.RIGHT):
        finding = found.legs[side]
        if finding.contour is None:
            if side in changes:
                notes.append(f"{finding.message}; this leg is left unchanged ({finding.advice})")
            continue
        change = changes.get(side)
        if change is None:
            notes.append(f"the protocol does not treat the {side.value} leg; it is left unchanged")
        displacements[side] = leg_displacement(finding.contour, change)
        if change is not None:
            contour = finding.contour
            calf_y = contour.knee_xy_px[1] + change.calf_level_frac * (
                contour.ankle_xy_px[1] - contour.knee_xy_px[1]
            )
            d = displacements[side]
            width_px = float(np.interp(calf_y, d.y_px, d.right_x_px - d.left_x_px))
            scale = float(change.width_before_cm_at(change.calf_level_frac)) / width_px
            cm_per_px[side] = scale
            ratio = contour.length_px * scale / change.length_cm
            if not 1 / _LENGTH_RATIO_NOTE <= ratio <= _LENGTH_RATIO_NOTE:
                notes.append(
                    f"{side.value} leg: at the scale of its calf width the photo's lower leg is "
                    f"{contour.length_px * scale:.0f} cm long, the model's {change.length_cm:.0f} "
                    "cm (clothing, an oblique view or an unmeasured leg length); the change is "
                    "applied in proportion to the photo's own widths"
                )
    after = warp_photo(rgb, displacements)
    label = next(iter(changes[s].label for s in usable))
    return TryOn(
        before=rgb,
        after=after,
        legs=found,
        changes=MappingProxyType({s: changes[s] for s in usable}),
        displacements=MappingProxyType(displacements),
        cm_per_px=MappingProxyType(cm_per_px),
        label=label,
        notes=tuple(notes),
    )


def _font(size_px: int) -> Any:
    from PIL import ImageFont

    for name in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(name, size_px)
        except OSError:
            continue
    return ImageFont.load_default(size_px)


def _wrap(text: str, font: Any, width_px: int, draw: Any) -> list[str]:
    """Split text into lines no wider than ``width_px``."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and draw.textlength(candidate, font=font) > width_px:
            lines.append(current)
            current = word
        else:
            current = candidate
    return [*lines, current] if current else lines


def compare_image(
    result: TryOn, *, max_height_px: int = 1200, has_outline: bool = True
) -> NDArray[np.uint8]:
    """Side-by-side comparison: "Before" and "After" with the day and band, and a caption.

    Parameters
    ----------
    result : TryOn
    max_height_px : int, default 1200
        The photos are scaled down to at most this height.
    has_outline : bool, default True
        Draw the original calf contours thinly on the "after" panel, so that a small change
        can be seen.

    Returns
    -------
    ndarray of uint8, shape (h, w, 3)
    """
    from PIL import Image, ImageDraw

    height, width = result.before.shape[:2]
    scale = min(1.0, max_height_px / height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    before = Image.fromarray(result.before).resize(size, Image.Resampling.LANCZOS)
    after = Image.fromarray(result.after).resize(size, Image.Resampling.LANCZOS)
    if has_outline:
        draw_after = ImageDraw.Draw(after, "RGBA")
        line = max(1, round(size[1] / 600))
        for d in result.displacements.values():
            if not (np.any(d.left_shift_px) or np.any(d.right_shift_px)):
                continue
            for xs in (d.left_x_px, d.right_x_px):
                points = [
                    (float(x) * scale, float(y) * scale) for x, y in zip(xs, d.y_px, strict=True)
                ]
                draw_after.line(
                    points[:: max(1, len(points) // 200)], fill=(255, 200, 0, 150), width=line
                )
    title_px = max(16, size[1] // 28)
    caption_px = max(12, size[1] // 48)
    gap = max(8, size[0] // 60)
    width_px = 2 * size[0] + 3 * gap
    font = _font(title_px)
    small = _font(caption_px)
    band = result.label.rsplit(", ", 1)[-1]
    caption = (
        "Model prediction (calfsim), an illustration and not a promise: individual results vary "
        f"(p10-p90 band). Shown: {_BAND_WORDS.get(band, result.label)}."
    )
    if has_outline:
        caption += " Yellow line: the calf's outline before."
    girths = "; ".join(
        f"{side.value} calf girth {c.girth_before_cm:.1f} -> {c.girth_after_cm:.1f} cm"
        + (
            ""
            if c.girth_band_cm is None
            else f" (p10-p90 {c.girth_band_cm[0]:.1f}-{c.girth_band_cm[2]:.1f} cm)"
        )
        for side, c in result.changes.items()
    )
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    lines = _wrap(caption, small, width_px - 2 * gap, measure) + _wrap(
        girths, small, width_px - 2 * gap, measure
    )
    top = title_px + 2 * gap
    line_px = round(caption_px * 1.3)
    canvas = Image.new("RGB", (width_px, size[1] + top + len(lines) * line_px + 2 * gap), "white")
    canvas.paste(before, (gap, top))
    canvas.paste(after, (2 * gap + size[0], top))
    draw = ImageDraw.Draw(canvas)
    draw.text((gap, gap), "Before", fill=(20, 20, 20), font=font)
    draw.text((2 * gap + size[0], gap), f"After — {result.label}", fill=(20, 20, 20), font=font)
    for k, line in enumerate(lines):
        draw.text((gap, top + size[1] + gap + k * line_px), line, fill=(60, 60, 60), font=small)
    return np.asarray(canvas, dtype=np.uint8)


def _r(x: float, digits: int = 2) -> float:
    return round(float(x), digits)


def tryon_to_dict(result: TryOn, *, day: float, band: str) -> dict[str, Any]:
    """JSON-ready record: landmarks, each leg's contours and its displacement per level.

    Parameters
    ----------
    result : TryOn
    day : float
    band : str

    Returns
    -------
    dict
        ``photo``, ``change``, ``landmarks``, ``legs`` (per leg: status, reason and advice when
        refused; confidences, scale, contours every few rows and ``levels`` with the
        displacement in px and cm) and ``notes``.
    """
    found = result.legs
    landmarks = {
        name: {
            "x_px": _r(lm.x_px, 1),
            "y_px": _r(lm.y_px, 1),
            "visibility": _r(lm.visibility, 3),
            "is_in_image": lm.is_in_image,
        }
        for name, lm in found.landmarks.items()
    }
    legs: dict[str, Any] = {}
    for side, finding in found.legs.items():
        entry: dict[str, Any] = {
            "status": "refused" if finding.contour is None else "traced",
            "message": finding.message,
        }
        if finding.contour is None:
            entry.update(reason=finding.reason, advice=finding.advice)
            legs[side.value] = entry
            continue
        contour = finding.contour
        d = result.displacements[side]
        every = max(1, d.y_px.size // 100)
        entry["edge_contrast"] = _r(contour.edge_contrast, 3)
        entry["knee_xy_px"] = [_r(v, 1) for v in contour.knee_xy_px]
        entry["ankle_xy_px"] = [_r(v, 1) for v in contour.ankle_xy_px]
        entry["contour"] = {
            "y_px": [_r(v, 1) for v in contour.y_px[::every]],
            "medial_x_px": [_r(v) for v in contour.medial_x_px[::every]],
            "lateral_x_px": [_r(v) for v in contour.lateral_x_px[::every]],
            "medial_is_image_left": contour.is_medial_left,
        }
        change = result.changes.get(side)
        if change is not None:
            scale = result.cm_per_px[side]
            entry["status"] = "warped"
            entry["cm_per_px"] = _r(scale, 5)
            entry["calf_girth_before_cm"] = _r(change.girth_before_cm)
            entry["calf_girth_after_cm"] = _r(change.girth_after_cm)
            if change.girth_band_cm is not None:
                entry["calf_girth_band_cm"] = dict(
                    zip(
                        ("p10", "median", "p90"), (_r(v) for v in change.girth_band_cm), strict=True
                    )
                )
            levels = []
            for t in np.linspace(0.0, 1.0, _N_REPORT_LEVELS):
                y = contour.knee_xy_px[1] + t * (contour.ankle_xy_px[1] - contour.knee_xy_px[1])
                medial = float(np.interp(y, d.y_px, d.medial_inward_px))
                lateral = float(np.interp(y, d.y_px, d.lateral_inward_px))
                medial_x = float(np.interp(y, contour.y_px, contour.medial_x_px))
                lateral_x = float(np.interp(y, contour.y_px, contour.lateral_x_px))
                levels.append(
                    {
                        "level_frac": _r(t, 3),
                        "level_cm": _r(t * change.length_cm, 1),
                        "y_px": _r(y, 1),
                        "medial_x_px": _r(medial_x),
                        "lateral_x_px": _r(lateral_x),
                        "medial_inward_px": _r(medial, 3),
                        "lateral_inward_px": _r(lateral, 3),
                        "medial_inward_cm": _r(medial * scale, 3),
                        "lateral_inward_cm": _r(lateral * scale, 3),
                    }
                )
            entry["levels"] = levels
        legs[side.value] = entry
    return {
        "photo": {"width_px": found.width_px, "height_px": found.height_px, "view": found.view},
        "change": {"day": day, "band": band, "label": result.label},
        "landmarks": landmarks,
        "legs": legs,
        "notes": list(result.notes),
    }

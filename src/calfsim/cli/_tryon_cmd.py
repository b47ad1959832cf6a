"""``calfsim tryon PHOTO --protocol P.json --day 84``: the person's photo, before and after.

Writes the "after" photo (``--out``, .jpg or .png, no metadata), optionally a labelled
side-by-side comparison (``--compare``, .png or .jpg) and prints a summary or, with ``--json``,
the landmarks, contours and displacement per level.

Exit codes: 0 success; 2 when the photo or the protocol cannot be used (one ``error: ...`` line
per problem on stderr, with advice on the photo to take); 1 for other errors (e.g. a missing
'photo' extra, an unwritable output).
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from calfsim.errors import CalfSimError, ExtrapolationWarning, InvalidInputError

__all__ = ["tryon"]

_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def _exit(err: Console, lines: tuple[str, ...] | list[str], code: int) -> None:
    for line in lines:
        err.print(f"error: {line}", markup=False, highlight=False)
    raise typer.Exit(code)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def tryon(
    photo: Path,
    *,
    protocol: Path,
    day: float,
    out: Path,
    band: str = "median",
    compare: Path | None = None,
    as_json: bool = False,
    view: str = "auto",
    seed: int = 1,
    samples: int = 2000,
) -> dict[str, Any]:
    """Run ``calfsim tryon``: read, detect, trace, warp and write.

    Parameters
    ----------
    photo : Path
        JPEG, PNG or WebP photo of a standing person, lower legs visible.
    protocol : Path
        Protocol JSON file (the person's measurements and sessions).
    day : float
        Day after the first injection to show.
    out : Path
        The "after" photo (.jpg or .png).
    band : {"median", "p10", "p90"}
        Which percentile of the prediction to show.
    compare : Path, optional
        Side-by-side comparison image (.png or .jpg).
    as_json : bool
        Print the JSON record instead of a summary.
    view : {"auto", "front", "back"}
        How the photo was taken.
    seed, samples : int
        Monte Carlo seed and number of virtual patients.

    Returns
    -------
    dict
        The JSON record (also printed with ``as_json``).

    Raises
    ------
    typer.Exit
        Code 2 for unusable input, 1 for other errors.
    """
    out_console = Console(soft_wrap=True)
    err = Console(stderr=True, soft_wrap=True)
    for name, path in (("--out", out), ("--compare", compare)):
        if path is not None and path.suffix.lower() not in _IMAGE_SUFFIXES:
            _exit(err, [f"{name} must name a .jpg, .jpeg or .png file; got {str(path)!r}"], 2)
    try:
        from calfsim.io import read_protocol
        from calfsim.photo import (
            compare_image,
            encode_image,
            read_photo,
            silhouette_changes,
            tryon_photo,
            tryon_to_dict,
        )

        parsed = read_protocol(protocol)
        rgb = read_photo(photo)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExtrapolationWarning)  # reported in the notes
            changes = silhouette_changes(parsed, day=day, band=band, n_samples=samples, rng=seed)
        result = tryon_photo(rgb, changes, view=view)
    except InvalidInputError as exc:
        _exit(err, exc.problems, 2)
        raise  # pragma: no cover - _exit always raises
    except CalfSimError as exc:  # MissingExtraError and the like
        _exit(err, [str(exc)], 1)
        raise  # pragma: no cover
    record = tryon_to_dict(result, day=day, band=band)
    try:
        _write(out, encode_image(result.after, suffix=out.suffix))
        if compare is not None:
            _write(compare, encode_image(compare_image(result), suffix=compare.suffix))
    except OSError as exc:
        _exit(err, [f"cannot write the output: {exc}"], 1)
    if as_json:
        sys.stdout.write(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
        return record
    out_console.print(
        f"{photo.name}: {record['photo']['width_px']} x {record['photo']['height_px']} px, "
        f"{record['photo']['view']} view; showing {result.label}",
        markup=False,
        highlight=False,
    )
    for side, leg in record["legs"].items():
        if leg["status"] == "refused":
            out_console.print(
                f"{side} leg: refused: {leg['message']} ({leg['advice']})", markup=False
            )
            continue
        line = f"{side} leg: {leg['status']} (edge contrast {leg['edge_contrast']:.2f})"
        if "levels" in leg:
            widest = max(
                leg["levels"], key=lambda lv: lv["medial_inward_px"] + lv["lateral_inward_px"]
            )
            line += (
                f"; calf girth {leg['calf_girth_before_cm']:.1f} -> "
                f"{leg['calf_girth_after_cm']:.1f} cm; largest move at {widest['level_cm']:.0f} cm "
                f"below the knee: medial {widest['medial_inward_px']:.1f} px "
                f"({widest['medial_inward_cm']:.2f} cm), lateral "
                f"{widest['lateral_inward_px']:.1f} px ({widest['lateral_inward_cm']:.2f} cm)"
            )
        out_console.print(line, markup=False, highlight=False)
    for note in record["notes"]:
        out_console.print(f"note: {note}", markup=False, highlight=False)
    out_console.print(f"wrote {out}", markup=False)
    if compare is not None:
        out_console.print(f"wrote {compare}", markup=False)
    return record

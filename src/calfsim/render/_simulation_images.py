"""Pictures of a 3D simulation: the before/after grid and the strip of weeks.

Both show the skins of the lower legs only (up to 10 cm above the knees: the inner muscles are
for the interactive x-ray view, and on a whole-body scan the calves would otherwise be a few
pixels wide), with the baseline's silhouette outlined over the later states so that a change of
millimetres reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from calfsim.render._mesh_render import RenderMesh, before_after_png, weeks_strip_png
from calfsim.simulation import LegsSimulation, MeshFrames

__all__ = ["STRIP_WEEKS", "simulation_before_after_png", "simulation_weeks_png"]

#: Weeks shown in the strip: baseline, onset, the usual nadir, the recovery and one year
#: (multiples of 4, so that the p10/p90 frames, kept every 28 days, exist too).
STRIP_WEEKS = (0, 4, 8, 12, 24, 52)
_SKIN_RGBA = (0.87, 0.70, 0.60, 1.0)
_ABOVE_KNEE_M = 0.10
_BAND_WORDS = {"median": "likely", "p10": "best case (p10)", "p90": "little change (p90)"}


def _lower_legs(sim: LegsSimulation) -> list[tuple[MeshFrames, np.ndarray, np.ndarray]]:
    """Each skin cut to its lower legs (faces up to 10 cm above the knees), vertices compacted.

    A scan of the whole body would show the calves a few pixels wide; the change is only there.
    """
    top = max(float(leg.level_heights_m[0]) for leg in sim.legs.values()) + _ABOVE_KNEE_M
    out = []
    for mesh in sim.meshes:
        if mesh.part != "skin":
            continue
        faces = mesh.faces[(mesh.vertices_m[mesh.faces, 2] < top).all(axis=1)]
        used, compact = np.unique(faces, return_inverse=True)
        out.append((mesh, used, compact.reshape(-1, 3)))
    return out


def _skins(sim: LegsSimulation, frame_index: int | None) -> list[RenderMesh]:
    """Lower-leg skin meshes at a frame (None: the baseline vertices)."""
    out: list[RenderMesh] = []
    for mesh, used, faces in _lower_legs(sim):
        vertices = mesh.vertices_m if frame_index is None else mesh.frames_m[frame_index]
        out.append((vertices[used], faces, _SKIN_RGBA))
    return out


def _calf_change_words(sim: LegsSimulation, frame_index: int) -> str:
    parts = []
    for side, leg in sorted(sim.legs.items(), key=lambda item: item[0].value):
        i = leg.anatomy.calf_level_index
        before = float(leg.model_girth_cm[sim.frame_index(0), i])
        after = float(leg.model_girth_cm[frame_index, i])
        parts.append(f"{side.value[0].upper()} {after - before:+.1f} cm")
    return "calf " + ", ".join(parts)


def simulation_before_after_png(
    sim: LegsSimulation,
    path: str | Path,
    *,
    day: int | None = None,
    band: str = "median",
    views: Sequence[str] = ("back", "side"),
) -> Path:
    """Write the before/after grid of a simulation (back and side views, one camera per row).

    Parameters
    ----------
    sim : LegsSimulation
    path : str or Path
        Output PNG.
    day : int, optional
        Day of the "after" column (a frame of ``sim``); default the median's nadir week.
    band : {"median", "p10", "p90"}, default "median"
    views : sequence of str, default ("back", "side")

    Returns
    -------
    Path

    Raises
    ------
    LookupError
        If there is no frame for that day and band.
    """
    day = sim.nadir_day if day is None else day
    index = sim.frame_index(day, band)
    title = f"Week {day / 7:g}, {_BAND_WORDS.get(band, band)}: {_calf_change_words(sim, index)}"
    return before_after_png(
        _skins(sim, None),
        _skins(sim, index),
        path,
        views=views,
        labels=("Before (baseline)", f"Week {day / 7:g}"),
        title=title,
    )


def simulation_weeks_png(
    sim: LegsSimulation,
    path: str | Path,
    *,
    weeks: Sequence[int] = STRIP_WEEKS,
    band: str = "median",
    view: str = "back",
) -> Path:
    """Write a strip of the skins at several weeks (default 0, 4, 8, 12, 24, 52), one camera.

    Raises
    ------
    LookupError
        If a week has no frame in that band.
    """
    frames = []
    for week in weeks:
        index = sim.frame_index(7 * week, band)
        frames.append((f"week {week}", _skins(sim, index)))
    return weeks_strip_png(
        frames,
        path,
        view=view,
        title=f"Calves over a year ({_BAND_WORDS.get(band, band)}), {view} view",
    )

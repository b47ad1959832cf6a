"""The 3D simulation's files: ``legs.glb`` (meshes with a time axis) and ``summary.json``.

`write_simulation_glb` turns a :class:`~calfsim.simulation.LegsSimulation` into one GLB: a
node per skin (one per leg, or the scan's) and per inner muscle (see-through, hidden at
first: the "x-ray" view), each with one morph target per frame of the time axis, named
``day_DDD_<band>`` (``day_084_median``, ``day_084_p10``...). A viewer shows day *d* of a band
by setting that target's weight to 1 (or blends two neighbouring weeks).

`simulation_glb_parts` cuts that file into the parts a web page loads one after the other
(:func:`~calfsim.io.subset_glb`, byte for byte: nothing is simulated or encoded twice):
``"median"`` the skins with the weekly median targets (what the page shows first), ``"bands"``
the skins with the p10 / p90 targets (for the band switch) and ``"muscles"`` the inner muscles
with every target (for the x-ray view; absent when the simulation has none).

`simulation_to_dict` is the ``summary.json`` contract: the ``calfsim predict --json`` output
plus, per leg, the girths the model asks for and those measured on the deformed meshes at
every level and frame, and the largest difference.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from calfsim.io._glb import GlbNode, subset_glb, write_glb
from calfsim.io._prediction_json import prediction_to_dict
from calfsim.simulation import LegsSimulation, MeshFrames

__all__ = [
    "GLB_PARTS",
    "MESH_COLORS",
    "simulation_glb_nodes",
    "simulation_glb_parts",
    "simulation_to_dict",
    "write_simulation_glb",
]

#: Base colour of each part: a light skin tone, muscles in distinct reds (see-through).
MESH_COLORS: dict[str, tuple[float, float, float, float]] = {
    "skin": (0.87, 0.70, 0.60, 1.0),
    "gm_medial": (0.80, 0.20, 0.22, 0.55),
    "gm_lateral": (0.90, 0.45, 0.25, 0.55),
    "soleus": (0.55, 0.18, 0.35, 0.45),
}
_FALLBACK_COLOR = (0.6, 0.6, 0.6, 0.5)


def _node(mesh: MeshFrames, frame_names: list[str]) -> GlbNode:
    is_skin = mesh.part == "skin"
    return GlbNode(
        name=mesh.name,
        vertices_m=mesh.vertices_m,
        faces=mesh.faces,
        morph_targets=list(zip(frame_names, mesh.frames_m, strict=True)),
        color_rgba=MESH_COLORS.get(mesh.part, _FALLBACK_COLOR),
        is_visible=is_skin,
    )


def simulation_glb_nodes(sim: LegsSimulation) -> list[GlbNode]:
    """Return the GLB nodes of a simulation: skins first, then the inner muscles."""
    names = [frame.name for frame in sim.frames]
    return [_node(mesh, names) for mesh in sim.meshes]


def write_simulation_glb(sim: LegsSimulation, path: str | Path) -> Path:
    """Write the simulation's meshes and their time axis to a GLB file.

    Parameters
    ----------
    sim : LegsSimulation
        From :func:`calfsim.simulation.simulate_legs`.
    path : str or Path
        Output ``.glb``; its folder is created if missing.

    Returns
    -------
    Path
        ``path``.
    """
    return write_glb(path, simulation_glb_nodes(sim))


#: The parts of `simulation_glb_parts`, in the order a page needs them.
GLB_PARTS = ("median", "bands", "muscles")


def simulation_glb_parts(sim: LegsSimulation, glb: bytes) -> dict[str, bytes]:
    """Cut the simulation's GLB (from `write_simulation_glb`) into the parts of a web page.

    Parameters
    ----------
    sim : LegsSimulation
        The simulation the GLB was written from (it names the skins, muscles and bands).
    glb : bytes
        The file `write_simulation_glb` wrote for ``sim``.

    Returns
    -------
    dict of str to bytes
        ``"median"``, ``"bands"`` and (when the simulation has inner meshes) ``"muscles"``:
        each a GLB of its own (see the module notes).
    """
    skins = [mesh.name for mesh in sim.meshes if mesh.part == "skin"]
    muscles = [mesh.name for mesh in sim.meshes if mesh.part != "skin"]
    medians = {frame.name for frame in sim.frames if frame.band == "median"}
    parts = {
        "median": subset_glb(glb, node_names=skins, keep_target=medians.__contains__),
        "bands": subset_glb(glb, node_names=skins, keep_target=lambda name: name not in medians),
    }
    if muscles:
        parts["muscles"] = subset_glb(glb, node_names=muscles)
    return parts


def _rows(values: np.ndarray) -> list[list[float | None]]:
    return [[None if not np.isfinite(x) else round(float(x), 4) for x in row] for row in values]


def simulation_to_dict(sim: LegsSimulation) -> dict[str, Any]:
    """Return the ``summary.json`` contract of ``calfsim simulate``.

    Fields: ``prediction`` (the predict contract), ``frames`` (``name``, ``day``, ``band`` in
    morph-target order), ``nadir_day``, ``max_girth_error_cm`` and per leg ``levels_below_knee_cm``,
    ``level_heights_m``, ``model_girth_cm`` and ``mesh_girth_cm`` (rows = frames, columns =
    levels; null where a scan's section does not close), ``max_girth_error_cm``,
    ``measurements`` used and ``scan_leg``; ``meshes`` (name, part, side, vertex and face
    counts) and ``notes``.
    """
    legs: dict[str, Any] = {}
    for side, leg in sim.legs.items():
        m = leg.measurements
        legs[side.value] = {
            "levels_below_knee_cm": [round(float(x), 3) for x in leg.levels_cm],
            "level_heights_m": [round(float(x), 5) for x in leg.level_heights_m],
            "calf_level_index": leg.anatomy.calf_level_index,
            "axis_point_m": [round(float(x), 5) for x in leg.axis_point_m],
            "axis_direction": [round(float(x), 6) for x in leg.axis_direction],
            "model_girth_cm": _rows(leg.model_girth_cm),
            "mesh_girth_cm": _rows(leg.mesh_girth_cm),
            "max_girth_error_cm": float(leg.max_girth_error_cm),
            "measurements": {
                "calf_girth_cm": m.calf_girth_cm,
                "ankle_girth_cm": m.ankle_girth_cm,
                "knee_girth_cm": m.knee_girth_cm,
                "lower_leg_length_cm": m.lower_leg_length_cm,
                "fat_thickness_mm": m.fat_thickness_mm,
                "gm_thickness_mm": m.gm_thickness_mm,
            },
            "scan_leg": leg.scan_leg,
        }
    return {
        "prediction": prediction_to_dict(sim.prediction),
        "frames": [{"name": f.name, "day": f.day, "band": f.band} for f in sim.frames],
        "nadir_day": sim.nadir_day,
        "max_girth_error_cm": float(sim.max_girth_error_cm),
        "legs": legs,
        "meshes": [
            {
                "name": mesh.name,
                "part": mesh.part,
                "side": None if mesh.side is None else mesh.side.value,
                "vertices": int(mesh.vertices_m.shape[0]),
                "faces": int(mesh.faces.shape[0]),
            }
            for mesh in sim.meshes
        ],
        "notes": list(sim.notes),
    }

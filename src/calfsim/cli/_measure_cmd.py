"""``calfsim measure SCAN``: girths of both legs on a 3D scan, as tables or JSON.

Exit codes: 0 success; 2 when the scan cannot be used (unreadable, too large, no legs, wrong
units), with one ``error: ...`` line per problem on stderr and no traceback.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from calfsim.cli._errors import print_errors
from calfsim.errors import CalfSimError

__all__ = ["measure", "measure_tables"]

#: Rows of the profile table: every 2 cm (the JSON has the full 5 mm profile).
_TABLE_STEP_CM = 2.0


def _cm(x: float | None) -> str:
    return "—" if x is None or not math.isfinite(x) else f"{x:.1f}"


def measure_tables(result: dict[str, Any]) -> list[Table]:
    """Return a summary table (one column per leg) and a girth-profile table.

    Parameters
    ----------
    result : dict
        The output of :func:`calfsim.io.legs_to_dict`.

    Returns
    -------
    list of rich.table.Table
    """
    legs = result["legs"]
    scan = result["scan"]
    summary = Table(
        title=(
            f"{scan['source']}: {scan['height_cm']:.1f} cm tall, units {scan['source_units']}"
            f"{'' if scan['is_whole_body'] else ' (lower legs only)'}"
        ),
        caption="Girths by tape: convex hull of the section perpendicular to each leg's axis. "
        "Levels are heights above the floor.",
    )
    summary.add_column("measure")
    for name in legs:
        summary.add_column(f"{name} leg", justify="right")
    rows = (
        ("calf girth (cm)", "calf_girth_cm"),
        ("calf level (cm)", "calf_level_cm"),
        ("ankle girth (cm)", "ankle_girth_cm"),
        ("ankle level (cm)", "ankle_level_cm"),
        ("knee girth (cm)", "knee_girth_cm"),
        ("knee level (cm)", "knee_level_cm"),
        ("lower-leg length (cm)", "lower_leg_length_cm"),
        ("axis tilt (deg)", "axis_tilt_deg"),
    )
    for label, key in rows:
        summary.add_row(label, *(_cm(leg[key]) for leg in legs.values()))

    profile = Table(title=f"Girth profile (cm), every {_TABLE_STEP_CM:g} cm")
    profile.add_column("height (cm)", justify="right")
    for name in legs:
        profile.add_column(name, justify="right")
    first = next(iter(legs.values()))["profile"]["heights_cm"]
    step = max(1, round(_TABLE_STEP_CM / (first[1] - first[0]))) if len(first) > 1 else 1
    for i in range(0, len(first), step):
        values = [leg["profile"]["girths_cm"][i] for leg in legs.values()]
        profile.add_row(f"{first[i]:.1f}", *(_cm(v) for v in values))
    return [summary, profile]


def measure(scan: Path, as_json: bool = False, units: str | None = None) -> None:
    """Run ``calfsim measure``: load the scan, find both legs, print girths and the profile.

    Parameters
    ----------
    scan : Path
        A ``.obj``, ``.ply``, ``.stl``, ``.glb`` or ``.gltf`` file.
    as_json : bool, optional
        Print JSON (``calfsim.io.legs_to_dict``) instead of tables.
    units : {"m", "dm", "cm", "mm"}, optional
        Units of the file; recognised from the body size when omitted.

    Raises
    ------
    typer.Exit
        With code 2 when the scan cannot be measured (the reason is printed on stderr).
    """
    from calfsim.geometry import find_legs
    from calfsim.io import legs_to_dict, load_scan

    out = Console(soft_wrap=True)
    err = Console(stderr=True, soft_wrap=True)
    try:
        loaded = load_scan(scan, units=units)
        found = find_legs(loaded)
    except CalfSimError as exc:
        print_errors(err, exc, source=scan.name)
        raise typer.Exit(2) from None
    result = legs_to_dict(loaded, found, source=scan.name)
    if as_json:
        sys.stdout.write(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
        return
    for table in measure_tables(result):
        out.print(table)
    s = result["scan"]
    for label, text in (
        ("surface", s["parts_reason"]),
        ("units", s["units_reason"]),
        ("up", s["up_axis_reason"]),
        ("sides", s["orientation_reason"]),
    ):
        out.print(f"{label}: {text}", markup=False, highlight=False)
    for warning in result["warnings"]:
        out.print(f"warning: {warning}", markup=False, highlight=False)

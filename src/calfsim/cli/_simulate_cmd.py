"""``calfsim simulate PROTOCOL --out DIR [--scan SCAN]``: the 3D try-it-on as files.

Writes ``DIR/legs.glb`` (skins and inner muscles with a morph target per week and band),
``DIR/before_after.png`` (back and side views, baseline beside the chosen week),
``DIR/weeks.png`` (weeks 0-52 from behind) and ``DIR/summary.json`` (the predict contract plus
the girths measured on the meshes). Each step shows a progress line with its elapsed time.

Exit codes: 0 success; 2 invalid input (protocol, scan, options), one ``error: ...`` line per
problem on stderr and no traceback; 1 when an output cannot be written.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from calfsim.cli._errors import print_errors
from calfsim.errors import CalfSimError, ExtrapolationWarning, InvalidInputError
from calfsim.simulation import BAND_EVERY_DAYS, WEEKLY_DAYS

__all__ = ["simulate"]

T = TypeVar("T")
_BANDS = ("median", "p10", "p90")


def _fail(err: Console, exc: CalfSimError) -> None:
    print_errors(err, exc)
    raise typer.Exit(2)


@contextmanager
def _steps(err: Console, *, is_quiet: bool) -> Iterator[Callable[[str, Callable[[], T]], T]]:
    """Run named steps under one Rich progress display (on stderr; silent when quiet)."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
        disable=is_quiet,
    ) as progress:

        def step(description: str, run: Callable[[], T]) -> T:
            task = progress.add_task(description, total=1)
            result = run()
            progress.update(task, completed=1)
            return result

        yield step


def _check_options(out: Path, day: int | None, band: str) -> None:
    problems = []
    if band not in _BANDS:
        problems.append(f"--band must be one of {', '.join(_BANDS)}; got {band!r}")
    last = WEEKLY_DAYS[-1]
    if day is not None and day not in WEEKLY_DAYS:
        problems.append(f"--day must be a whole week in [0, {last}] days (0, 7, 14...); got {day}")
    if band != "median" and day is not None and day % BAND_EVERY_DAYS:
        problems.append(
            f"--day {day} has no {band} frame: the band is kept every {BAND_EVERY_DAYS} days "
            f"(0, {BAND_EVERY_DAYS}, {2 * BAND_EVERY_DAYS}...)"
        )
    if out.exists() and not out.is_dir():
        problems.append(f"--out must be a folder; {out} is a file")
    if problems:
        raise InvalidInputError(problems[0], field="options", problems=tuple(problems))


def simulate(
    protocol: Path,
    *,
    out: Path,
    scan: Path | None = None,
    units: str | None = None,
    seed: int = 1,
    samples: int = 4000,
    day: int | None = None,
    band: str = "median",
    is_quiet: bool = False,
) -> dict[str, Any]:
    """Run ``calfsim simulate`` and return the summary written to ``summary.json``.

    Parameters
    ----------
    protocol : Path
        Protocol JSON (the predict contract).
    out : Path
        Output folder (created if missing).
    scan : Path, optional
        A body or lower-leg scan whose own vertices are deformed.
    units : str, optional
        Units of the scan (default: recognised from its size).
    seed, samples : int
        Monte Carlo seed and number of virtual patients.
    day : int, optional
        Day of the "after" column of ``before_after.png`` (default: the median's nadir).
    band : {"median", "p10", "p90"}
        Band of the pictures.
    is_quiet : bool
        No progress display.

    Raises
    ------
    typer.Exit
        Code 2 for invalid input, 1 when a file cannot be written.
    """
    from calfsim.io import load_scan, read_protocol, simulation_to_dict, write_simulation_glb
    from calfsim.render import simulation_before_after_png, simulation_weeks_png
    from calfsim.simulation import simulate_legs

    err = Console(stderr=True, soft_wrap=True)
    try:
        _check_options(out, day, band)
        parsed = read_protocol(protocol)
        with _steps(err, is_quiet=is_quiet) as step:
            loaded = None
            if scan is not None:
                loaded = step(f"loading {scan.name}", lambda: load_scan(scan, units=units))

            def run() -> Any:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ExtrapolationWarning)  # in the notes
                    return simulate_legs(parsed, scan=loaded, n_samples=samples, rng=seed)

            sim = step("simulating 81 frames of both legs (Monte Carlo + meshes)", run)
            summary = simulation_to_dict(sim)
            try:
                out.mkdir(parents=True, exist_ok=True)
                step("writing legs.glb", lambda: write_simulation_glb(sim, out / "legs.glb"))
                step(
                    "rendering before_after.png",
                    lambda: simulation_before_after_png(
                        sim, out / "before_after.png", day=day, band=band
                    ),
                )
                step(
                    "rendering weeks.png",
                    lambda: simulation_weeks_png(sim, out / "weeks.png", band=band),
                )
                (out / "summary.json").write_text(
                    json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
                )
            except OSError as exc:
                err.print(
                    f"error: --out: cannot write to {out} ({exc.strerror or exc})",
                    markup=False,
                    highlight=False,
                )
                raise typer.Exit(1) from None
    except CalfSimError as exc:
        _fail(err, exc)
    return summary

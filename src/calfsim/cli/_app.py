"""Typer application: ``calfsim predict`` and ``calfsim evidence``.

Exit codes: 0 success, 2 invalid input (one line per problem on stderr), 1 other errors.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from calfsim.cli._errors import print_errors
from calfsim.errors import CalfSimError, ExtrapolationWarning, InvalidInputError

__all__ = ["app", "main"]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="calfsim: evidence-based simulator for calf reduction by botulinum toxin (off-label).",
)
_out = Console(soft_wrap=True)
_err = Console(stderr=True, soft_wrap=True)


def _fail(exc: CalfSimError) -> None:
    print_errors(_err, exc)
    raise typer.Exit(2 if isinstance(exc, InvalidInputError) else 1)


@app.command()
def predict(
    protocol: Annotated[Path, typer.Argument(help="Protocol JSON file (the predict contract)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON contract")] = False,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write girth vs time with its band to a PNG")
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Random seed (same seed, same output)")
    ] = 1,
    samples: Annotated[int, typer.Option("--samples", help="Monte Carlo virtual patients")] = 4000,
) -> None:
    """Predict how each calf changes over time, as p10 / median / p90."""
    from calfsim.io import prediction_to_dict, read_protocol
    from calfsim.simulation import predict as run_predict

    if plot is not None and plot.suffix.lower() != ".png":
        _err.print(
            f"error: --plot must name a .png file; got {str(plot)!r}", markup=False, highlight=False
        )
        raise typer.Exit(2)
    try:
        parsed = read_protocol(protocol)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExtrapolationWarning)  # reported in the notes
            result = run_predict(parsed, n_samples=samples, rng=seed)
    except CalfSimError as exc:
        _fail(exc)
        return
    if as_json:
        sys.stdout.write(json.dumps(prediction_to_dict(result), indent=1) + "\n")
    else:
        from calfsim.cli._tables import prediction_tables

        for table in prediction_tables(result):
            _out.print(table)
        for note in result.notes:
            _out.print(f"note: {note}", markup=False)
    if plot is not None:
        from calfsim.render import plot_prediction

        try:
            written = plot_prediction(result, plot)
        except OSError as exc:
            _err.print(
                f"error: --plot: cannot write {plot} ({exc.strerror})",
                markup=False,
                highlight=False,
            )
            raise typer.Exit(1) from None
        (_err if as_json else _out).print(f"plot written to {written}", markup=False)


@app.command()
def plan(
    intake: Annotated[Path, typer.Argument(help="Intake JSON file (the plan contract)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON plan")] = False,
    map_png: Annotated[
        Path | None, typer.Option("--map", help="Write the injection map (both legs) to a PNG")
    ] = None,
    pdf: Annotated[
        Path | None, typer.Option("--pdf", help="Write the patient-ready plan to a PDF")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Random seed")] = 1,
    samples: Annotated[int, typer.Option("--samples", help="Monte Carlo virtual patients")] = 4000,
) -> None:
    """Screen, plan doses and injection sites, schedule, cost and compare alternatives."""
    from calfsim.io import plan_to_dict, read_intake
    from calfsim.simulation import make_plan

    for option, path, suffix in (("--map", map_png, ".png"), ("--pdf", pdf, ".pdf")):
        if path is not None and path.suffix.lower() != suffix:
            _err.print(f"error: {option} must name a {suffix} file; got '{path}'", markup=False)
            raise typer.Exit(2)
    try:
        request = read_intake(intake)
        result = make_plan(request, n_samples=samples, rng=seed)
    except CalfSimError as exc:
        _fail(exc)
        return
    info = _err if as_json else _out
    if as_json:
        sys.stdout.write(json.dumps(plan_to_dict(result), indent=1, ensure_ascii=False) + "\n")
    else:
        from calfsim.cli._plan_tables import print_plan

        print_plan(_out, result)
    try:
        if map_png is not None:
            if result.has_treatment:
                from calfsim.render import draw_injection_map

                legs = {
                    s: (result.anatomies[s], tuple(x for x in result.sites if x.side is s))
                    for s in result.anatomies
                }
                written = draw_injection_map(legs, map_png, title="Injection map, session 1")
                info.print(f"map written to {written}", markup=False)
            else:
                info.print("no map: no treatment is planned", markup=False)
        if pdf is not None:
            from calfsim.report import write_plan_pdf

            info.print(f"plan PDF written to {write_plan_pdf(result, pdf)}", markup=False)
    except OSError as exc:
        _err.print(f"error: cannot write the output file ({exc.strerror})", markup=False)
        raise typer.Exit(1) from None


@app.command()
def evidence(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
    topic: Annotated[str | None, typer.Option("--topic", help="Only this topic")] = None,
) -> None:
    """List every clinical number calfsim uses, with its citation and evidence tag."""
    from calfsim.cli._tables import evidence_tables
    from calfsim.evidence import load_evidence
    from calfsim.io import evidence_to_dict

    ev = load_evidence()
    if topic is not None and topic not in ev.topics:
        _err.print(
            f"error: --topic must be one of {', '.join(sorted(ev.topics))}; got {topic!r}",
            markup=False,
        )
        raise typer.Exit(2)
    if as_json:
        data = evidence_to_dict(ev, topic)
        sys.stdout.write(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
        return
    for table in evidence_tables(ev, topic):
        _out.print(table)


def main() -> None:
    """Entry point of the ``calfsim`` script."""
    app()


@app.command("measure")
def measure_scan(
    scan: Annotated[
        Path, typer.Argument(help="Body or lower-leg scan: .obj, .ply, .stl, .glb or .gltf")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    units: Annotated[
        str | None,
        typer.Option("--units", help="Units of the file: m, dm, cm or mm (default: from size)"),
    ] = None,
) -> None:
    """Measure calf, ankle and knee girths of both legs on a 3D scan, like a tape."""
    from calfsim.cli._measure_cmd import measure

    measure(scan, as_json=as_json, units=units)


@app.command("tryon")
def tryon_photo(
    photo: Annotated[Path, typer.Argument(help="Photo of the standing person (JPEG, PNG, WebP)")],
    protocol: Annotated[Path, typer.Option("--protocol", help="Protocol JSON file")],
    day: Annotated[float, typer.Option("--day", help="Day after the first injection to show")],
    out: Annotated[Path, typer.Option("--out", help="The 'after' photo (.jpg or .png)")],
    band: Annotated[str, typer.Option("--band", help="median, p10 or p90")] = "median",
    compare: Annotated[
        Path | None, typer.Option("--compare", help="Side-by-side before/after image (.png)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON record")] = False,
    view: Annotated[str, typer.Option("--view", help="auto, front or back")] = "auto",
    seed: Annotated[int, typer.Option("--seed", min=0, help="Random seed")] = 1,
    samples: Annotated[int, typer.Option("--samples", help="Monte Carlo virtual patients")] = 2000,
) -> None:
    """Show the person's own photo with the calves changed by the model's amount."""
    from calfsim.cli._tryon_cmd import tryon

    tryon(
        photo,
        protocol=protocol,
        day=day,
        out=out,
        band=band,
        compare=compare,
        as_json=as_json,
        view=view,
        seed=seed,
        samples=samples,
    )


@app.command("simulate")
def simulate_3d(
    protocol: Annotated[Path, typer.Argument(help="Protocol JSON file (the predict contract)")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (created if missing)")],
    scan: Annotated[
        Path | None,
        typer.Option(
            "--scan", help="Deform this scan (.obj .ply .stl .glb .gltf) instead of a model leg"
        ),
    ] = None,
    units: Annotated[
        str | None, typer.Option("--units", help="Units of the scan: m, dm, cm or mm")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Random seed")] = 1,
    samples: Annotated[int, typer.Option("--samples", help="Monte Carlo virtual patients")] = 4000,
    day: Annotated[
        int | None,
        typer.Option("--day", help="Day of the 'after' picture, a whole week (default: nadir)"),
    ] = None,
    band: Annotated[str, typer.Option("--band", help="median, p10 or p90")] = "median",
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress display")] = False,
) -> None:
    """Simulate both legs in 3D over a year: legs.glb, before_after.png, weeks.png, summary.json."""
    from calfsim.cli._simulate_cmd import simulate

    summary = simulate(
        protocol,
        out=out,
        scan=scan,
        units=units,
        seed=seed,
        samples=samples,
        day=day,
        band=band,
        is_quiet=quiet,
    )
    for name, leg in summary["legs"].items():
        girths = leg["model_girth_cm"]
        i = leg["calf_level_index"]
        nadir = next(
            k
            for k, f in enumerate(summary["frames"])
            if f["name"] == f"day_{summary['nadir_day']:03d}_median"
        )
        _out.print(
            f"{name} calf: {girths[0][i]:.1f} cm at baseline, {girths[nadir][i]:.1f} cm (median) "
            f"at week {summary['nadir_day'] // 7}; mesh vs model girth within "
            f"{10 * leg['max_girth_error_cm']:.3f} mm at every level and frame",
            markup=False,
        )
    for note in summary["notes"]:
        _out.print(f"note: {note}", markup=False)
    for name in ("legs.glb", "before_after.png", "weeks.png", "summary.json"):
        _out.print(f"wrote {out / name}", markup=False)


@app.command("serve")
def serve_web(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port")] = 8000,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Results database URL (default: SQLite in out/calfsim.sqlite3)"),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=32, help="Server processes (one per core)")
    ] = 1,
    compute_processes: Annotated[
        int | None,
        typer.Option(
            "--compute-processes",
            min=0,
            max=64,
            help="Processes computing the API's predictions and plans in arrival order "
            "(one per core; default 0: in the server process)",
        ),
    ] = None,
) -> None:
    """Run the web app (guide, candidacy check, 3D try-on, plans, JSON API) until Ctrl+C."""
    from calfsim.cli._serve_cmd import serve

    serve(host=host, port=port, db_url=db, workers=workers, compute_processes=compute_processes)

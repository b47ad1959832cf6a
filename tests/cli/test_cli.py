"""The ``calfsim`` command line: output formats, exit codes and one error line per problem."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from matplotlib import image

from calfsim.cli import app
from calfsim.evidence import load_evidence

FAST = ("--samples", "300")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TOPICS = sorted(load_evidence().topics)

CONTRACT_TOP = {"model_version", "calfsim_version", "samples", "seed", "legs"}


def run(runner, *args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


def error_lines(result) -> list[str]:
    lines = result.stderr.splitlines()
    assert lines, "nothing on stderr"
    assert all(line.startswith("error: ") for line in lines), lines
    return lines


def assert_no_crash(result) -> None:
    """No traceback and no exception other than the normal exit."""
    assert "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )


def one_leg(*sessions: tuple[float, float], allow_extrapolation: bool = False) -> dict:
    """A left-leg protocol with sessions given as (day, units to the left calf)."""
    return {
        "legs": {"left": {"calf_girth_cm": 36}},
        "sessions": [
            {"day": day, "product": "onabotulinumtoxinA", "doses_u": {"left": units}}
            for day, units in sessions
        ],
        "days": [0, 84],
        "allow_extrapolation": allow_extrapolation,
    }


# --- predict -----------------------------------------------------------------------------------


def test_predict_prints_a_table_per_leg(runner, example_path):
    result = run(runner, "predict", example_path, *FAST)
    assert result.exit_code == 0, result.stderr
    assert "left calf: baseline 36.3 cm" in result.stdout
    assert "right calf: baseline 36.5 cm" in result.stdout
    for column in ("day", "p10", "median", "p90", "soleus"):
        assert column in result.stdout
    assert result.stderr == ""


def test_predict_json_has_the_contract_keys(runner, example_path, example):
    result = run(runner, "predict", example_path, "--json", *FAST, "--seed", "5")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out.keys() >= CONTRACT_TOP
    assert out["samples"] == 300
    assert out["seed"] == 5
    assert set(out["legs"]) == {"left", "right"}
    for leg in out["legs"].values():
        assert leg["days"] == [float(d) for d in example["days"]]
        assert set(leg["calf_girth_cm"]) == {"p10", "median", "p90"}
        assert set(leg["calf_girth_change_cm"]) == {"p10", "median", "p90"}
        assert set(leg["heads"]) == {"gm_medial", "gm_lateral", "soleus"}


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 10_000
    height, width, _channels = image.imread(path).shape
    assert width > height > 100


def test_predict_plot_writes_a_png(runner, example_path, tmp_path):
    out = tmp_path / "plots" / "out.png"
    result = run(runner, "predict", example_path, "--plot", out, *FAST)
    assert result.exit_code == 0, result.stderr
    assert_png(out)
    assert "plot written to" in result.stdout


def test_predict_json_and_plot_keep_stdout_pure_json(runner, example_path, tmp_path):
    out = tmp_path / "out.png"
    result = run(runner, "predict", example_path, "--json", "--plot", out, *FAST)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout).keys() >= CONTRACT_TOP
    assert "plot written to" in result.stderr
    assert_png(out)


def test_same_seed_same_output_other_seed_other_output(runner, example_path):
    def predict_json(seed: str) -> str:
        result = run(runner, "predict", example_path, "--json", *FAST, "--seed", seed)
        assert result.exit_code == 0, result.stderr
        return result.stdout

    first = predict_json("3")
    assert predict_json("3") == first
    assert predict_json("4") != first


# --- invalid input: exit 2, one "error: " line per problem -------------------------------------


def test_invalid_protocol_exits_2_naming_the_path(runner, write_protocol, example):
    example["legs"]["left"]["calf_girth_cm"] = 14
    result = run(runner, "predict", write_protocol(example), *FAST)
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert line.startswith("error: legs.left.calf_girth_cm: ")
    assert "got 14" in line
    assert "[20, 70] cm" in line
    assert result.stdout == ""


def test_each_problem_gets_its_own_line(runner, write_protocol, example):
    example["legs"]["left"]["calf_girth_cm"] = 14
    example["legs"]["right"]["calf_girth_cm"] = 15
    example["sessions"][0]["day"] = -1
    result = run(runner, "predict", write_protocol(example), *FAST)
    assert result.exit_code == 2
    assert [line.split(": ")[1] for line in error_lines(result)] == [
        "legs.left.calf_girth_cm",
        "legs.right.calf_girth_cm",
        "sessions[0].day",
    ]


def test_missing_file_exits_2(runner, tmp_path):
    path = tmp_path / "absent.json"
    result = run(runner, "predict", path)
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert line.startswith(f"error: {path}: cannot read the file")


def test_file_that_is_not_json_exits_2(runner, tmp_path):
    path = tmp_path / "p.json"
    path.write_text("legs: left", encoding="utf-8")
    result = run(runner, "predict", path)
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert line.startswith(f"error: {path}: not valid JSON (line 1, column 1")


def test_sessions_closer_than_the_minimum_interval(runner, write_protocol):
    result = run(runner, "predict", write_protocol(one_leg((0, 100), (30, 100))), *FAST)
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert "30 days apart" in line
    assert "minimum interval is 84 days" in line


@pytest.mark.parametrize("allow", [False, True], ids=["strict", "extrapolating"])
def test_both_legs_over_the_ceiling(runner, write_protocol, allow):
    protocol = {
        "legs": {"left": {"calf_girth_cm": 36}, "right": {"calf_girth_cm": 36}},
        "sessions": [
            {"day": 0, "product": "onabotulinumtoxinA", "doses_u": {"left": 250, "right": 250}}
        ],
        "allow_extrapolation": allow,
    }
    result = run(runner, "predict", write_protocol(protocol), *FAST)
    # The ceiling is a safety limit: allow_extrapolation does not lift it.
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert "500 U" in line
    assert "ceiling of 400 U per 90 days" in line


def test_dose_beyond_the_evidence_needs_allow_extrapolation(runner, write_protocol):
    result = run(runner, "predict", write_protocol(one_leg((0, 200))), *FAST)
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert "200 U" in line
    assert "150 U per calf" in line
    assert "allow_extrapolation" in line


def test_dose_beyond_the_evidence_with_allow_extrapolation_adds_a_note(runner, write_protocol):
    path = write_protocol(one_leg((0, 200), allow_extrapolation=True))
    result = run(runner, "predict", path, *FAST)
    assert result.exit_code == 0, result.stderr
    notes = [line for line in result.stdout.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1
    assert "150 U per calf" in notes[0]
    as_json = run(runner, "predict", path, "--json", *FAST)
    assert as_json.exit_code == 0, as_json.stderr
    assert len(json.loads(as_json.stdout)["notes"]) == 1


@pytest.mark.parametrize("samples", ["5", "99", "200001"])
def test_samples_out_of_range_exits_2(runner, example_path, samples):
    result = run(runner, "predict", example_path, "--samples", samples)
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert line == f"error: samples must be an integer in [100, 200000]; got {samples}"


# --- evidence ----------------------------------------------------------------------------------


def test_evidence_lists_every_topic(runner):
    result = run(runner, "evidence")
    assert result.exit_code == 0, result.stderr
    for topic in TOPICS:
        assert f"{topic}: " in result.stdout


def test_evidence_json_items_are_complete(runner):
    result = run(runner, "evidence", "--json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["items"]
    for item in out["items"]:
        assert item.keys() >= {"key", "value", "unit", "tag", "sources"}, item
        assert all(source in out["sources"] for source in item["sources"]), item["key"]


def test_evidence_json_one_topic(runner):
    result = run(runner, "evidence", "--json", "--topic", "safety")
    assert result.exit_code == 0, result.stderr
    keys = [item["key"] for item in json.loads(result.stdout)["items"]]
    assert "safety.ceiling_per_3_months_u" in keys
    assert all(key.startswith("safety.") for key in keys)


def test_unknown_topic_exits_2_listing_the_topics(runner):
    result = run(runner, "evidence", "--topic", "nope")
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert line == f"error: --topic must be one of {', '.join(TOPICS)}; got 'nope'"


# --- never a traceback -------------------------------------------------------------------------

BAD_PROTOCOLS = {
    "bad-girth": {"legs": {"left": {"calf_girth_cm": 14}}},
    "bad-schema": {"legs": {"middle": {}}, "sessions": "none"},
    "top-level-list": [],
    "interval": one_leg((0, 100), (10, 100)),
    "outside-evidence": one_leg((0, 300)),
}


@pytest.mark.parametrize("name", BAD_PROTOCOLS)
def test_bad_protocols_never_show_a_traceback(runner, write_protocol, name):
    result = run(runner, "predict", write_protocol(BAD_PROTOCOLS[name]), *FAST)
    assert result.exit_code == 2
    error_lines(result)
    assert_no_crash(result)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("predict",), id="no-file"),
        pytest.param(("predict", "FILE", "--bogus"), id="unknown-option"),
        pytest.param(("predict", "FILE", "--samples", "many"), id="samples-not-int"),
        pytest.param(("predict", "FILE", "--samples", "5"), id="samples-5"),
        pytest.param(("evidence", "--topic", "nope"), id="topic"),
    ],
)
def test_usage_errors_exit_2_without_traceback(runner, write_protocol, args):
    path = write_protocol({"legs": {"left": {"calf_girth_cm": 36}}})
    result = run(runner, *(path if a == "FILE" else a for a in args))
    assert result.exit_code == 2
    assert_no_crash(result)


@pytest.mark.parametrize(
    "case",
    [
        pytest.param("directory", id="directory"),
        pytest.param("deep-json", id="deeply-nested-json"),
        pytest.param("negative-seed", id="negative-seed"),
        pytest.param("plot-txt", id="plot-unsupported-format"),
    ],
)
def test_other_bad_input_exits_2_without_traceback(runner, tmp_path, example_path, case):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000, encoding="utf-8")
    args = {
        "directory": ("predict", tmp_path),
        "deep-json": ("predict", deep),
        "negative-seed": ("predict", example_path, "--seed", "-1", *FAST),
        "plot-txt": ("predict", example_path, "--plot", tmp_path / "out.txt", *FAST),
    }[case]
    result = run(runner, *args)
    assert_no_crash(result)
    assert result.exit_code == 2


# --- end to end: the real interpreter, stdout and stderr ---------------------------------------


def test_module_entry_point_exits_2_with_one_error_line(write_protocol):
    path = write_protocol({"legs": {"left": {"calf_girth_cm": 14}}})
    proc = subprocess.run(
        [sys.executable, "-m", "calfsim.cli", "predict", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    (line,) = proc.stderr.splitlines()
    assert line.startswith("error: legs.left.calf_girth_cm: calf_girth_cm must be in [20, 70] cm")


def test_console_script_prints_json(example_path):
    script = Path(sys.executable).with_name("calfsim")
    if not script.exists():
        pytest.skip("the calfsim console script is not installed next to this interpreter")
    proc = subprocess.run(
        [str(script), "predict", str(example_path), "--json", *FAST],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout).keys() >= CONTRACT_TOP

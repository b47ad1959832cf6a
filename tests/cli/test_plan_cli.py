"""``calfsim plan INTAKE.json [--json] [--map OUT.png] [--pdf OUT.pdf]``: output and exit codes.

The planner issue: the JSON output has at least ``screening`` (verdict, reasons), ``sessions``
(day, product, ``doses_u`` per leg and head, the shape ``calfsim predict`` accepts), ``sites``,
``dilution``, ``cost``, ``prediction`` and ``alternatives``; contraindicated intakes never get a
plan; the sum of site units equals each head's dose; bad intake values get the same clear errors
as ``calfsim predict`` (exit 2, one ``error:`` line per problem).
"""

from __future__ import annotations

import copy
import itertools
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from calfsim.cli import app

FAST = ("--samples", "200")
WIDE = {"COLUMNS": "200"}  # wide enough that no table cell wraps
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: WeasyPrint warns on import when the system lacks libharfbuzz-subset (it falls back to
#: fontTools); the PDF is the same, and the test settings turn warnings into errors.
NO_HARFBUZZ_SUBSET = pytest.mark.filterwarnings("ignore:HarfBuzz-Subset:DeprecationWarning")
INTAKE_PATH = Path(__file__).parents[2] / "examples" / "intake.json"
INTAKE: dict[str, Any] = json.loads(INTAKE_PATH.read_text(encoding="utf-8"))

OPTION_KEYS = {
    "botox",
    "selective_neurectomy",
    "surgical_resection",
    "radiofrequency_ablation",
    "liposuction",
    "no_treatment",
}
SITE_KEYS = {
    "leg",
    "head",
    "level_below_knee_cm",
    "offset_from_midline_cm",
    "depth_mm",
    "units_u",
    "volume_ml",
}


def run(runner: CliRunner, *args: str | Path, env: dict[str, str] | None = None):
    return runner.invoke(app, [str(a) for a in args], env=env)


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


def contraindicated() -> dict[str, Any]:
    data = copy.deepcopy(INTAKE)
    data["screening"]["infection_at_site"] = True
    return data


@pytest.fixture(scope="module")
def plan_result():
    return run(CliRunner(), "plan", INTAKE_PATH, "--json", *FAST)


@pytest.fixture(scope="module")
def plan(plan_result) -> dict[str, Any]:
    assert plan_result.exit_code == 0, plan_result.stderr
    return json.loads(plan_result.stdout)


@pytest.fixture(scope="module")
def refused_plan(tmp_path_factory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("intake") / "contraindicated.json"
    path.write_text(json.dumps(contraindicated()), encoding="utf-8")
    result = run(CliRunner(), "plan", path, "--json", *FAST)
    assert result.exit_code == 0, result.stderr
    assert_no_crash(result)
    return json.loads(result.stdout)


# --- human-readable output ---------------------------------------------------------------------


def test_plan_prints_verdict_sessions_sites_cost_and_options(runner, plan):
    result = run(runner, "plan", INTAKE_PATH, *FAST, env=WIDE)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert f"Screening verdict: {plan['screening']['verdict']}" in out
    for reason in plan["screening"]["reasons"]:
        assert reason["text"] in out
    assert "Sessions (units of onabotulinumtoxinA)" in out
    assert "Injection sites (session 1" in out
    assert "Dilution: 100 U vial + 2 mL saline = 50 U/mL" in out
    assert "Cost: first year 8,400 USD, second year 8,400 USD" in out
    assert "Options compared" in out
    for option in plan["alternatives"]:
        assert option["name"].split(" (")[0] in out
    assert "off-label" in out
    assert result.stderr == ""


def test_plan_prints_every_session_day(runner, plan):
    result = run(runner, "plan", INTAKE_PATH, *FAST, env=WIDE)
    rows = [line for line in result.stdout.splitlines() if line.count("│") == 7]
    days = {row.split("│")[1].strip() for row in rows}
    assert {f"{s['day']:g}" for s in plan["sessions"]} <= days


def test_same_seed_same_plan(runner, plan_result):
    again = run(runner, "plan", INTAKE_PATH, "--json", *FAST)
    assert again.stdout == plan_result.stdout


# --- the JSON plan -----------------------------------------------------------------------------


def test_plan_json_has_the_contract_keys(plan, plan_result):
    assert plan.keys() >= {
        "screening",
        "sessions",
        "sites",
        "dilution",
        "cost",
        "prediction",
        "alternatives",
    }
    assert plan_result.stderr == ""


def test_screening_has_a_verdict_and_cited_reasons(plan):
    screening = plan["screening"]
    assert screening["verdict"] == "consult"  # toxin 20 days ago, one question not asked
    assert screening["reasons"]
    for reason in screening["reasons"]:
        assert reason.keys() >= {"code", "text", "citations", "evidence_keys"}
        assert reason["text"]
        assert reason["citations"]
        assert reason["evidence_keys"]
    assert "recent_toxin" in {r["code"] for r in screening["reasons"]}


def test_sessions_give_day_product_and_units_per_leg_and_head(plan):
    assert len(plan["sessions"]) >= 2  # a first course of at least 2 sessions
    for session in plan["sessions"]:
        assert session.keys() == {"day", "product", "doses_u"}
        assert isinstance(session["day"], float)
        assert session["product"] == "onabotulinumtoxinA"
        assert set(session["doses_u"]) == {"left", "right"}
        for heads in session["doses_u"].values():
            assert set(heads) <= {"gm_medial", "gm_lateral", "soleus"}
            assert heads["gm_medial"] >= heads["gm_lateral"] > 0


def test_sessions_keep_the_minimum_interval(plan):
    days = [s["day"] for s in plan["sessions"]]
    assert days == sorted(days)
    assert plan["min_interval_days"] == 84
    assert all(b - a >= plan["min_interval_days"] for a, b in itertools.pairwise(days))


def test_first_session_waits_12_weeks_after_toxin_received_elsewhere(plan):
    (recent,) = INTAKE["recent_toxin"]
    assert plan["sessions"][0]["day"] >= plan["min_interval_days"] - recent["days_ago"]


def test_sites_have_position_depth_units_and_volume(plan):
    assert plan["sites"]
    for site in plan["sites"]:
        assert site.keys() >= SITE_KEYS
        assert site["leg"] in {"left", "right"}
        assert site["head"] in {"gm_medial", "gm_lateral", "soleus"}
        assert site["level_below_knee_cm"] > 0
        assert site["depth_mm"] > 0
        assert site["units_u"] > 0
        assert site["volume_ml"] > 0
    assert {s["leg"] for s in plan["sites"]} == {"left", "right"}


def test_site_units_add_up_to_the_first_sessions_dose_per_head(plan):
    summed: dict[tuple[str, str], float] = defaultdict(float)
    for site in plan["sites"]:
        summed[(site["leg"], site["head"])] += site["units_u"]
    first = plan["sessions"][0]["doses_u"]
    expected = {(leg, head): u for leg, heads in first.items() for head, u in heads.items() if u}
    assert summed.keys() == expected.keys()
    for key, units in expected.items():
        assert summed[key] == pytest.approx(units, abs=1e-6), key


def test_site_volumes_follow_the_dilution(plan):
    concentration = plan["dilution"]["concentration_u_per_ml"]
    for site in plan["sites"]:
        assert site["volume_ml"] == pytest.approx(site["units_u"] / concentration, abs=1e-3)


def test_dilution_covers_the_first_session(plan):
    dilution = plan["dilution"]
    first_units = sum(
        u for heads in plan["sessions"][0]["doses_u"].values() for u in heads.values()
    )
    assert dilution["total_units_u"] == pytest.approx(first_units)
    assert dilution["n_vials"] * dilution["vial_u"] >= dilution["total_units_u"]
    assert dilution["concentration_u_per_ml"] == pytest.approx(50.0)  # 100 U in 2 mL


def test_cost_is_a_range_per_year(plan):
    cost = plan["cost"]
    for year in ("first_year", "second_year"):
        money = cost[year]
        assert money["low"] <= money["typical"] <= money["high"]
        assert money["currency"] == "USD"
    # 14 USD per unit, no fee; 2 sessions of 300 U in year 1 (days 64 and 155).
    assert cost["first_year"]["typical"] == pytest.approx(8400.0)
    assert len(cost["per_session"]) == len(plan["sessions"])


def test_prediction_has_girth_change_bands_for_both_legs(plan):
    legs = plan["prediction"]["legs"]
    assert set(legs) == {"left", "right"}
    for leg in legs.values():
        band = leg["calf_girth_change_cm"]
        assert set(band) >= {"p10", "median", "p90"}
        assert len(band["median"]) == len(leg["days"])
        for p10, median, p90 in zip(band["p10"], band["median"], band["p90"], strict=True):
            assert p10 <= median <= p90
        assert min(band["median"]) < 0  # the calf gets slimmer at some point


def test_alternatives_are_six_options_described_alike(plan):
    options = plan["alternatives"]
    assert len(options) == 6
    assert {o["key"] for o in options} == OPTION_KEYS
    keys = {frozenset(o) for o in options}
    assert len(keys) == 1, keys
    (botox,) = (o for o in options if o["key"] == "botox")
    assert botox["off_label"] is True


def test_plan_json_states_that_calf_use_is_off_label(plan):
    assert any("off-label" in d for d in plan["disclaimers"])


def test_a_plan_can_be_fed_to_calfsim_predict_unchanged(runner, plan, write_protocol):
    # The intake's legs carry fat and muscle thickness: the predict contract accepts those too.
    protocol = {"patient": INTAKE["patient"], "legs": INTAKE["legs"], "sessions": plan["sessions"]}
    result = run(runner, "predict", write_protocol(protocol), "--json", *FAST)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out["legs"]) == {"left", "right"}


# --- a contraindicated intake ------------------------------------------------------------------


def test_a_contraindicated_intake_gets_no_plan(refused_plan):
    assert refused_plan["screening"]["verdict"] == "not_recommended"
    codes = {r["code"] for r in refused_plan["screening"]["reasons"]}
    assert "infection_at_site" in codes
    assert refused_plan["sessions"] == []
    assert refused_plan["sites"] == []
    assert refused_plan["dilution"] is None
    assert refused_plan["cost"] is None
    assert refused_plan["prediction"] is None


def test_a_contraindicated_intake_still_gets_the_alternatives(refused_plan, plan):
    assert len(refused_plan["alternatives"]) == 6
    assert {o["key"] for o in refused_plan["alternatives"]} == OPTION_KEYS
    assert {frozenset(o) for o in refused_plan["alternatives"]} == {
        frozenset(o) for o in plan["alternatives"]
    }


def test_a_contraindicated_intake_prints_why_and_draws_no_map(runner, write_protocol, tmp_path):
    out_png = tmp_path / "map.png"
    result = run(runner, "plan", write_protocol(contraindicated()), *FAST, "--map", out_png)
    assert result.exit_code == 0, result.stderr
    assert "Screening verdict: not_recommended" in result.stdout
    assert "No treatment is planned." in result.stdout
    assert "no map: no treatment is planned" in result.stdout
    assert not out_png.exists()


# --- --map and --pdf ---------------------------------------------------------------------------


def test_map_writes_a_png(runner, tmp_path):
    out_png = tmp_path / "out" / "map.png"
    result = run(runner, "plan", INTAKE_PATH, *FAST, "--map", out_png)
    assert result.exit_code == 0, result.stderr
    assert out_png.read_bytes().startswith(PNG_SIGNATURE)
    assert f"map written to {out_png}" in result.stdout.replace("\n", "")


def test_map_with_json_keeps_stdout_pure_json(runner, tmp_path):
    out_png = tmp_path / "map.png"
    result = run(runner, "plan", INTAKE_PATH, "--json", *FAST, "--map", out_png)
    assert result.exit_code == 0, result.stderr
    json.loads(result.stdout)
    assert "map written to" in result.stderr
    assert out_png.read_bytes().startswith(PNG_SIGNATURE)


@pytest.mark.parametrize(
    ("option", "name", "suffix"),
    [
        pytest.param("--map", "out.txt", ".png", id="map-txt"),
        pytest.param("--map", "out.pdf", ".png", id="map-pdf"),
        pytest.param("--pdf", "out.png", ".pdf", id="pdf-png"),
    ],
)
def test_an_output_file_of_the_wrong_type_is_refused(runner, tmp_path, option, name, suffix):
    out = tmp_path / name
    result = run(runner, "plan", INTAKE_PATH, *FAST, option, out)
    assert result.exit_code == 2
    assert_no_crash(result)
    (line,) = error_lines(result)
    assert option in line
    assert suffix in line
    assert name in line
    assert not out.exists()


@NO_HARFBUZZ_SUBSET
def test_pdf_writes_a_pdf(runner, tmp_path):
    out_pdf = tmp_path / "plan.pdf"
    result = run(runner, "plan", INTAKE_PATH, *FAST, "--pdf", out_pdf)
    assert result.exit_code == 0, result.stderr
    assert out_pdf.read_bytes().startswith(b"%PDF-")
    assert "plan PDF written to" in result.stdout


# --- bad intake --------------------------------------------------------------------------------


def _changed(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(INTAKE)
    *parents, last = path.split(".")
    node: Any = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[last] = value
    return data


@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        pytest.param(
            _changed("patient.age_years", 5), [["patient.age_years: ", "got 5"]], id="age"
        ),
        pytest.param(
            _changed("screening.infection_at_site", "yes"),
            [["screening.infection_at_site: ", "valid boolean", '"yes"']],
            id="answer-yes",
        ),
        pytest.param(
            _changed("recent_toxin.0.units", 5000),
            [["recent_toxin[0].units: ", "[0, 1500] U", "got 5000"]],
            id="toxin-units",
        ),
        pytest.param(
            _changed("prices.per_unit", 5000),
            [["prices.per_unit: ", "got 5000"]],
            id="price",
        ),
        pytest.param(
            _changed("goal", {"girth_change_cm": 1.0}),
            [["goal.girth_change_cm: ", "[-10, -0.1] cm", "got 1"]],
            id="goal-positive",
        ),
        pytest.param(
            _changed("prices", {"currency": "EUR"}),
            [["prices.per_unit", "EUR", "only has USD prices"]],
            id="eur-without-price",
        ),
        pytest.param(
            {**INTAKE, "min_interval_days": 30, "override_reason": "study protocol"},
            [["min_interval_days", "[56, 84] days", "got 30"]],
            id="interval-below-floor",
        ),
        pytest.param(
            {**INTAKE, "min_interval_days": 70},
            [["override_reason: ", "min_interval_days"]],
            id="interval-without-reason",
        ),
        pytest.param(
            {**INTAKE, "legs": {"left": {"calf_girth_cm": 14}}},
            [["legs.left.calf_girth_cm: ", "looks like inches"]],
            id="girth-inches",
        ),
        pytest.param(_changed("product", "botox"), [["product: ", '"botox"']], id="product"),
        pytest.param(_changed("horizon_days", 10), [["horizon_days: ", "got 10"]], id="horizon"),
        pytest.param(
            _changed("screening.pinch_test_cm", 25) | {"patient": {"age_years": 5}},
            [["patient.age_years: ", "got 5"], ["screening.pinch_test_cm: ", "millimetres"]],
            id="two-problems",
        ),
    ],
)
def test_bad_intake_exits_2_with_one_error_line_per_problem(
    runner, write_protocol, data, fragments
):
    result = run(runner, "plan", write_protocol(data), *FAST)
    assert result.exit_code == 2, result.stdout
    assert_no_crash(result)
    lines = error_lines(result)
    assert len(lines) == len(fragments), lines
    for line, expected in zip(lines, fragments, strict=True):
        for fragment in expected:
            assert fragment in line, f"{fragment!r} not in {line!r}"
    assert result.stdout == ""


def test_an_intake_that_is_not_json_exits_2(runner, tmp_path):
    path = tmp_path / "intake.json"
    path.write_text("{not json", encoding="utf-8")
    result = run(runner, "plan", path, *FAST)
    assert result.exit_code == 2
    assert_no_crash(result)
    (line,) = error_lines(result)
    assert line.startswith(f"error: {path}: not valid JSON")


def test_a_missing_intake_file_exits_2(runner, tmp_path):
    path = tmp_path / "nope.json"
    result = run(runner, "plan", path, *FAST)
    assert result.exit_code == 2
    assert_no_crash(result)
    (line,) = error_lines(result)
    assert line.startswith(f"error: {path}: cannot read the file")


def test_a_bad_intake_writes_no_map_or_pdf(runner, write_protocol, tmp_path):
    out_png, out_pdf = tmp_path / "map.png", tmp_path / "plan.pdf"
    bad = write_protocol(_changed("patient.age_years", 5))
    result = run(runner, "plan", bad, *FAST, "--map", out_png, "--pdf", out_pdf)
    assert result.exit_code == 2
    assert not out_png.exists()
    assert not out_pdf.exists()

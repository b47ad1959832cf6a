"""Bad intake values get the same clear errors as ``calfsim predict``.

The planner issue: "Bad intake values get the same clear errors as `calfsim predict`", i.e. one
line per problem naming the JSON path, the value and what is accepted. These tests pin the line
produced for each field of the intake file (``patient``/``legs`` as in the protocol contract,
plus ``screening``, ``goal``, ``product``, ``recent_toxin``, ``prices`` and the interval and
horizon fields), for values a person is likely to type by mistake.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from calfsim.errors import InvalidInputError
from calfsim.io import parse_intake, read_intake
from calfsim.planner import ScreeningAnswers
from calfsim.simulation import PlanRequest, make_plan

MISSING = object()

EXAMPLE_INTAKE = Path(__file__).parents[2] / "examples" / "intake.json"

VALID: dict[str, Any] = {
    "patient": {"sex": "female", "age_years": 29, "height_cm": 160, "weight_kg": 55},
    "legs": {
        "left": {
            "calf_girth_cm": 37.5,
            "ankle_girth_cm": 21.5,
            "fat_thickness_mm": 6.0,
            "gm_thickness_mm": 18.0,
        },
        "right": {"calf_girth_cm": 37.8},
    },
    "screening": dict.fromkeys(ScreeningAnswers.names(), False)
    | {"heel_raise_bulge": True, "pinch_test_cm": 2.0, "expected_girth_change_cm": -1.0},
    "goal": "max",
    "product": "onabotulinumtoxinA",
    "recent_toxin": [{"days_ago": 20, "product": "onabotulinumtoxinA", "units": 50}],
    "prices": {"currency": "USD", "per_unit": 14.0, "session_fee": 0},
}

PRODUCTS = (
    "onabotulinumtoxinA",
    "incobotulinumtoxinA",
    "prabotulinumtoxinA",
    "abobotulinumtoxinA",
    "letibotulinumtoxinA",
)
SCREENING_FIELDS = (
    *ScreeningAnswers.names(),
    "pinch_test_cm",
    "expected_girth_change_cm",
)
TOP_LEVEL_FIELDS = (
    "patient",
    "legs",
    "screening",
    "goal",
    "product",
    "recent_toxin",
    "prices",
    "min_interval_days",
    "override_reason",
    "horizon_days",
)


def _keys(path: str) -> list[str | int]:
    """``"recent_toxin[0].units"`` -> ``["recent_toxin", 0, "units"]``."""
    return [int(k[1:-1]) if k.startswith("[") else k for k in re.findall(r"\[\d+\]|[^.\[]+", path)]


def with_value(path: str, value: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """A copy of ``base`` (default: VALID) with ``value`` at ``path``; MISSING deletes it."""
    data = copy.deepcopy(VALID if base is None else base)
    *parents, last = _keys(path)
    node: Any = data
    for key in parents:
        node = node[key]
    if value is MISSING:
        del node[last]
    else:
        node[last] = value
    return data


def problems_of(data: Any) -> tuple[str, ...]:
    with pytest.raises(InvalidInputError) as info:
        parse_intake(data)
    return info.value.problems


def plan_problems_of(data: Any) -> tuple[str, ...]:
    """Problems found when parsing or, after that, when planning."""
    with pytest.raises(InvalidInputError) as info:
        make_plan(parse_intake(data), n_samples=200, search_samples=200)
    return info.value.problems


def test_valid_intake_parses():
    request = parse_intake(copy.deepcopy(VALID))
    assert isinstance(request, PlanRequest)
    assert [s.value for s in request.legs] == ["left", "right"]
    assert request.answers.heel_raise_bulge is True
    assert request.answers.pinch_test_cm == 2.0
    assert request.recent_toxin[0].amount_u == 50.0
    assert request.prices.per_unit == 14.0


def test_missing_screening_answers_are_not_asked_rather_than_no():
    request = parse_intake(with_value("screening", {"infection_at_site": False}))
    assert request.answers.infection_at_site is False
    assert request.answers.neuromuscular_disease is None


def test_null_screening_answer_means_not_asked():
    request = parse_intake(with_value("screening.bleeding_disorder", None))
    assert request.answers.bleeding_disorder is None


# (path set in VALID, value, path named by the line (None: the same), fragments of the line)
CASES = [
    # patient (as in the protocol contract)
    pytest.param("patient.sex", "f", None, ["'female'", "'male'", '"f"'], id="sex-abbreviated"),
    pytest.param("patient.age_years", 5, None, ["[10, 110] years", "got 5"], id="age-child"),
    pytest.param(
        "patient.age_years", "thirty", None, ["valid number", '"thirty"'], id="age-in-words"
    ),
    pytest.param(
        "patient.height_cm",
        62,
        None,
        ["[120, 230] cm", "got 62", "62 looks like inches (157.5 cm)"],
        id="height-inches",
    ),
    pytest.param(
        "patient.weight_kg",
        400,
        None,
        ["[25, 300] kg", "got 400", "400 looks like pounds (181 kg)"],
        id="weight-pounds",
    ),
    pytest.param("patient", [], None, ["valid dictionary", "got []"], id="patient-not-object"),
    pytest.param("patient.name", "Jane", None, ['got "Jane"'], id="patient-unknown-field"),
    # legs (as in the protocol contract)
    pytest.param("legs", MISSING, None, ["Field required"], id="legs-missing"),
    pytest.param("legs", [], None, ["valid dictionary", "got []"], id="legs-not-object"),
    pytest.param(
        "legs.middle",
        {"calf_girth_cm": 36},
        None,
        ["'left' or 'right'", '"middle"'],
        id="leg-named-middle",
    ),
    pytest.param(
        "legs.left.calf_girth_cm",
        14,
        None,
        ["[20, 70] cm", "got 14", "14 looks like inches (35.6 cm)"],
        id="calf-inches",
    ),
    pytest.param("legs.left.calf_girth_cm", "36", None, ["valid number", '"36"'], id="calf-text"),
    pytest.param("legs.left.calf_girth_cm", MISSING, None, ["Field required"], id="calf-missing"),
    pytest.param(
        "legs.left.ankle_girth_cm",
        40,
        None,
        ["smaller than calf_girth_cm (37.5 cm)", "got 40"],
        id="ankle-above-calf",
    ),
    pytest.param(
        "legs.left.fat_thickness_mm",
        0.3,
        None,
        ["[0.5, 60] mm", "got 0.3", "0.3 looks like centimetres (3 mm)"],
        id="fat-centimetres",
    ),
    pytest.param(
        "legs.left.gm_thickness_mm",
        1.8,
        None,
        ["[5, 50] mm", "got 1.8", "1.8 looks like centimetres (18 mm)"],
        id="gm-centimetres",
    ),
    pytest.param("legs.right.gm_thickness_mm", 80, None, ["[5, 50] mm", "got 80"], id="gm-80"),
    # screening: every yes/no answer is a JSON boolean; "yes" or 1 is refused, not converted
    *(
        pytest.param(
            f"screening.{name}", value, None, ["valid boolean", shown], id=f"{name}-{label}"
        )
        for name in ScreeningAnswers.names()
        for value, shown, label in (("yes", 'got "yes"', "yes"), (1, "got 1", "one"))
    ),
    pytest.param(
        "screening.pinch_test_cm",
        25,
        None,
        ["[0.1, 15] cm", "got 25", "25 looks like millimetres (2.5 cm)"],
        id="pinch-millimetres",
    ),
    pytest.param("screening.pinch_test_cm", 200, None, ["[0.1, 15] cm", "got 200"], id="pinch-200"),
    pytest.param("screening.pinch_test_cm", 0, None, ["[0.1, 15] cm", "got 0"], id="pinch-zero"),
    pytest.param(
        "screening.pinch_test_cm", "2", None, ["valid number", 'got "2"'], id="pinch-text"
    ),
    pytest.param(
        "screening.expected_girth_change_cm",
        50,
        None,
        ["[-30, 30] cm", "got 50"],
        id="expected-change-50",
    ),
    pytest.param(
        "screening.expected_girth_change_cm",
        -40,
        None,
        ["[-30, 30] cm", "got -40"],
        id="expected-change-minus-40",
    ),
    pytest.param(
        "screening.smoker", False, None, ["unknown field", "got false"], id="screening-unknown"
    ),
    pytest.param(
        "screening", "none", None, ["valid dictionary", 'got "none"'], id="screening-not-object"
    ),
    # goal
    pytest.param(
        "goal",
        "huge",
        None,
        ["'max'", "'visible'", "girth_change_cm", 'got "huge"'],
        id="goal-unknown-word",
    ),
    pytest.param(
        "goal",
        1,
        None,
        ["'max'", "'visible'", "girth_change_cm", "got 1"],
        id="goal-number",
    ),
    pytest.param(
        "goal",
        {"girth_change_cm": 1.0},
        "goal.girth_change_cm",
        ["[-10, -0.1] cm", "got 1", "negative"],
        id="goal-positive",
    ),
    pytest.param(
        "goal",
        {"girth_change_cm": -50},
        "goal.girth_change_cm",
        ["[-10, -0.1] cm", "got -50"],
        id="goal-minus-50",
    ),
    pytest.param(
        "goal",
        {"girth_change_cm": "-1"},
        "goal.girth_change_cm",
        ["valid number", 'got "-1"'],
        id="goal-text",
    ),
    # product
    pytest.param("product", "botox", None, [*PRODUCTS, 'got "botox"'], id="product-brand"),
    # recent_toxin
    pytest.param(
        "recent_toxin[0].days_ago", -5, None, ["[0, 3653] days", "got -5"], id="toxin-days-ago"
    ),
    pytest.param(
        "recent_toxin[0].units", -10, None, ["[0, 1500] U", "got -10"], id="toxin-units-negative"
    ),
    pytest.param(
        "recent_toxin[0].units", 5000, None, ["[0, 1500] U", "got 5000"], id="toxin-units-5000"
    ),
    pytest.param("recent_toxin[0].product", "x", None, [*PRODUCTS, 'got "x"'], id="toxin-product"),
    pytest.param(
        "recent_toxin[0].days_ago", MISSING, None, ["Field required"], id="toxin-days-missing"
    ),
    pytest.param(
        "recent_toxin[0].units", MISSING, None, ["Field required"], id="toxin-units-missing"
    ),
    pytest.param(
        "recent_toxin[0].product", MISSING, None, ["Field required"], id="toxin-product-missing"
    ),
    pytest.param(
        "recent_toxin[0].area",
        "face",
        None,
        ["accepted: days_ago, product, units", 'got "face"'],
        id="toxin-unknown-field",
    ),
    pytest.param(
        "recent_toxin",
        {"days_ago": 20},
        None,
        ["valid list", 'got {"days_ago": 20}'],
        id="toxin-not-list",
    ),
    # prices
    pytest.param(
        "prices.currency",
        "dollars",
        None,
        ["3-letter upper-case ISO 4217 code", "'USD'", "got 'dollars'"],
        id="currency-word",
    ),
    pytest.param(
        "prices.currency",
        "usd",
        None,
        ["3-letter upper-case ISO 4217 code", "got 'usd'"],
        id="currency-lower-case",
    ),
    pytest.param(
        "prices.per_unit", -1, None, ["[0, 1000] USD per unit", "got -1"], id="per-unit-negative"
    ),
    pytest.param(
        "prices.per_unit", 5000, None, ["[0, 1000] USD per unit", "got 5000"], id="per-unit-5000"
    ),
    pytest.param("prices.per_unit", "14", None, ["valid number", 'got "14"'], id="per-unit-text"),
    pytest.param(
        "prices.session_fee", -5, None, ["[0, 100000] USD", "got -5"], id="session-fee-negative"
    ),
    pytest.param(
        "prices",
        {"per_unit_low": 10},
        "prices.per_unit_high",
        ["per_unit_high is needed too", "per_unit_low"],
        id="price-range-half",
    ),
    pytest.param(
        "prices.vat",
        0.2,
        None,
        ["accepted: currency, per_unit, session_fee", "got 0.2"],
        id="prices-unknown-field",
    ),
    # interval override and horizon
    pytest.param(
        "min_interval_days",
        70,
        "override_reason",
        ["min_interval_days", "12-week minimum interval", "needs an override_reason"],
        id="interval-without-reason",
    ),
    pytest.param("min_interval_days", "70", None, ["valid number", 'got "70"'], id="interval-text"),
    pytest.param("horizon_days", 10, None, ["[84, 1826] days", "got 10"], id="horizon-10"),
    pytest.param("horizon_days", 5000, None, ["[84, 1826] days", "got 5000"], id="horizon-5000"),
    # top level
    pytest.param("intake_version", 1, None, ["unknown field", "got 1"], id="top-unknown-field"),
]


@pytest.mark.parametrize(("path", "value", "named", "fragments"), CASES)
def test_invalid_field_gives_one_line_naming_path_value_and_accepted(path, value, named, fragments):
    problems = problems_of(with_value(path, value))
    assert len(problems) == 1, problems
    line = problems[0]
    assert line.startswith(f"{named or path}: "), line
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"


def test_empty_legs_name_the_accepted_sides():
    (line,) = problems_of(with_value("legs", {}))
    assert line.startswith("legs: "), line
    assert "'left'" in line
    assert "'right'" in line


def test_empty_legs_show_the_value_like_predict():
    (line,) = problems_of(with_value("legs", {}))
    assert line.endswith("got {}"), line


def test_an_override_reason_of_blanks_is_no_reason():
    data = with_value("min_interval_days", 70)
    (line,) = problems_of(with_value("override_reason", "   ", base=data))
    assert line.startswith("override_reason: "), line


@pytest.mark.parametrize(
    ("path", "accepted"),
    [
        pytest.param("patient.name", ["sex", "age_years", "height_cm", "weight_kg"], id="patient"),
        pytest.param(
            "legs.left.calf_girth",
            ["calf_girth_cm", "ankle_girth_cm", "fat_thickness_mm", "gm_thickness_mm"],
            id="leg",
        ),
        pytest.param("screening.smoker", SCREENING_FIELDS, id="screening"),
        pytest.param("recent_toxin[0].amount_u", ["days_ago", "product", "units"], id="toxin"),
        pytest.param(
            "prices.price",
            ["currency", "per_unit", "session_fee", "per_unit_low", "per_unit_high"],
            id="prices",
        ),
        pytest.param("intake_version", TOP_LEVEL_FIELDS, id="top-level"),
    ],
)
def test_an_unknown_field_lists_the_accepted_fields(path, accepted):
    (line,) = problems_of(with_value(path, 36))
    assert line.startswith(f"{path}: "), line
    assert "got 36" in line
    for name in accepted:
        assert name in line, f"{name!r} not in {line!r}"


def test_a_goal_object_with_a_wrong_key_names_the_key_and_the_accepted_one():
    problems = problems_of(with_value("goal", {"cm": -1}))
    assert not any("GirthGoalIn" in line for line in problems), problems
    (line,) = (p for p in problems if p.startswith("goal.cm: "))
    assert "accepted: girth_change_cm" in line
    assert "got -1" in line


def test_a_goal_object_with_a_wrong_key_is_refused():
    problems = problems_of(with_value("goal", {"cm": -1}))
    assert all(line.startswith("goal") for line in problems), problems
    assert any("girth_change_cm" in line for line in problems), problems


@pytest.mark.parametrize("goal", ["max", "visible", {"girth_change_cm": -1.0}])
def test_every_documented_goal_is_accepted(goal):
    request = parse_intake(with_value("goal", goal))
    assert request.goal.kind.value == (goal if isinstance(goal, str) else "girth_change_cm")


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param("screening.infection_at_site", "no", id="answer-no-as-string"),
        pytest.param("screening.infection_at_site", 0, id="answer-zero"),
        pytest.param("screening.pregnant_or_breastfeeding", "false", id="answer-false-as-string"),
        pytest.param("recent_toxin[0].units", "50", id="units-as-string"),
        pytest.param("horizon_days", True, id="horizon-boolean"),
    ],
)
def test_values_of_the_wrong_json_type_are_refused(path, value):
    # A "no" typed as a string must never be read as an answer (a safety question).
    (line,) = problems_of(with_value(path, value))
    assert line.startswith(f"{path}: "), line


# --- found when planning, or parsing and planning together ----------------------------------------


def test_a_foreign_currency_without_a_price_says_the_evidence_has_usd_prices_only():
    (line,) = plan_problems_of(with_value("prices", {"currency": "EUR"}))
    assert "prices.per_unit" in line
    assert "EUR" in line
    assert "only has USD prices" in line


def test_a_foreign_currency_without_a_price_is_refused_with_the_other_intake_problems():
    data = with_value("prices", {"currency": "EUR"})
    data = with_value("patient.age_years", 5, base=data)
    problems = problems_of(data)
    assert [p.split(": ", 1)[0] for p in problems] == ["patient.age_years", "prices.per_unit"]
    assert "only has USD prices" in problems[1]


@pytest.mark.parametrize(
    "prices",
    [
        pytest.param({"currency": "EUR", "per_unit": 11.0}, id="per-unit"),
        pytest.param({"currency": "EUR", "per_unit_low": 9, "per_unit_high": 13}, id="range"),
    ],
)
def test_a_foreign_currency_with_a_price_is_planned(prices):
    request = parse_intake(with_value("prices", prices))
    plan = make_plan(request, n_samples=200, search_samples=200)
    assert plan.cost is not None
    assert plan.cost.currency == "EUR"


@pytest.mark.parametrize(
    ("days", "shown"),
    [pytest.param(30, "got 30", id="below-floor"), pytest.param(100, "got 100", id="above-84")],
)
def test_an_interval_override_outside_56_to_84_days_is_refused_when_planning(days, shown):
    # The 56-day floor is evidence ("planning.min_interval_override_floor_days"): make_plan checks.
    data = with_value("min_interval_days", days)
    (line,) = plan_problems_of(with_value("override_reason", "study protocol", base=data))
    assert "min_interval_days" in line
    assert "[56, 84] days" in line
    assert shown in line


def test_an_interval_override_within_56_to_84_days_is_recorded():
    data = with_value("min_interval_days", 70)
    request = parse_intake(with_value("override_reason", "study protocol", base=data))
    plan = make_plan(request, n_samples=200, search_samples=200)
    assert plan.min_interval_days == 70
    assert any("study protocol" in note for note in plan.notes)


# --- several problems at once ------------------------------------------------------------------


def test_several_plausibility_problems_give_several_lines():
    data = with_value("patient.age_years", 5)
    data = with_value("legs.left.calf_girth_cm", 14, base=data)
    data = with_value("screening.pinch_test_cm", 25, base=data)
    data = with_value("recent_toxin[0].days_ago", -5, base=data)
    data = with_value("prices.per_unit", -1, base=data)
    paths = [p.split(": ", 1)[0] for p in problems_of(data)]
    assert paths == [
        "patient.age_years",
        "legs.left.calf_girth_cm",
        "screening.pinch_test_cm",
        "recent_toxin[0].days_ago",
        "prices.per_unit",
    ]


def test_several_schema_problems_give_several_lines():
    data = with_value("screening.infection_at_site", "yes")
    data = with_value("product", "botox", base=data)
    data = with_value("recent_toxin[0].units", MISSING, base=data)
    data = with_value("prices.per_unit", "14", base=data)
    paths = [p.split(": ", 1)[0] for p in problems_of(data)]
    assert paths == [
        "screening.infection_at_site",
        "product",
        "recent_toxin[0].units",
        "prices.per_unit",
    ]


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"legs.left.calf_girth_cm": 14, "legs.left.gm_thickness_mm": 1.8}, id="leg"),
        pytest.param({"patient.age_years": 5, "patient.weight_kg": 400}, id="patient"),
        pytest.param(
            {"screening.pinch_test_cm": 25, "screening.expected_girth_change_cm": 50},
            id="screening",
        ),
        pytest.param(
            {"recent_toxin[0].days_ago": -5, "recent_toxin[0].units": 5000},
            id="recent-toxin",
        ),
        pytest.param(
            {"prices.per_unit": -1, "prices.session_fee": -5},
            id="prices",
        ),
    ],
)
def test_two_bad_fields_of_one_object_give_two_lines(changes):
    # As predict does for legs and patient: every problem at once, not one per attempt.
    data = copy.deepcopy(VALID)
    for path, value in changes.items():
        data = with_value(path, value, base=data)
    assert {p.split(": ", 1)[0] for p in problems_of(data)} == set(changes)


def test_schema_and_plausibility_problems_are_reported_together():
    data = with_value("product", "botox")
    data = with_value("patient.age_years", 5, base=data)
    data = with_value("recent_toxin[0].units", 5000, base=data)
    paths = {p.split(": ", 1)[0] for p in problems_of(data)}
    assert paths == {"product", "patient.age_years", "recent_toxin[0].units"}


def test_error_is_a_value_error_and_its_message_joins_the_problems():
    data = with_value("patient.age_years", 5)
    data = with_value("prices.session_fee", -5, base=data)
    with pytest.raises(ValueError, match="age_years") as info:
        parse_intake(data)
    assert isinstance(info.value, InvalidInputError)
    assert str(info.value) == "\n".join(info.value.problems)
    assert len(info.value.problems) == 2
    assert all("\n" not in line for line in info.value.problems)


@pytest.mark.parametrize("top", [[], "intake", None, 3])
def test_top_level_must_be_an_object(top):
    (line,) = problems_of(top)
    assert line.startswith("(top level): ")
    assert "valid dictionary" in line
    assert json.dumps(top) in line


# --- the file ----------------------------------------------------------------------------------


def file_problems(path: Path) -> tuple[str, ...]:
    with pytest.raises(InvalidInputError) as info:
        read_intake(path)
    return info.value.problems


def test_read_intake_reads_the_example():
    request = read_intake(EXAMPLE_INTAKE)
    assert len(request.legs) == 2
    assert request.goal.kind.value == "max"
    assert request.recent_toxin[0].days_ago == 20.0


def test_missing_file(tmp_path):
    path = tmp_path / "nope.json"
    (line,) = file_problems(path)
    assert line.startswith(f"{path}: ")
    assert "cannot read the file" in line


def test_file_that_is_not_json(tmp_path):
    path = tmp_path / "intake.json"
    path.write_text('{"legs": {"left": {"calf_girth_cm": 36}', encoding="utf-8")
    (line,) = file_problems(path)
    assert line.startswith(f"{path}: not valid JSON (line 1, column ")


def test_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "intake.json"
    path.write_bytes('{"legs": {"left": {"calf_girth_cm": 36}}, "x": "é"}'.encode("latin-1"))
    (line,) = file_problems(path)
    assert line == f"{path}: not a UTF-8 text file"


def test_file_too_large_names_intake_files(tmp_path):
    path = tmp_path / "intake.json"
    path.write_text(json.dumps(VALID) + " " * 1_000_000, encoding="utf-8")
    (line,) = file_problems(path)
    assert line.startswith(f"{path}: intake files must be at most 1,000,000 bytes; got ")


def test_deeply_nested_json_names_an_intake(tmp_path):
    path = tmp_path / "intake.json"
    path.write_text("[" * 200_000, encoding="utf-8")
    (line,) = file_problems(path)
    assert line.startswith(f"{path}: ")


def test_file_content_problems_keep_their_json_paths(tmp_path):
    path = tmp_path / "intake.json"
    path.write_text(json.dumps(with_value("recent_toxin[0].units", 5000)), encoding="utf-8")
    (line,) = file_problems(path)
    assert line.startswith("recent_toxin[0].units: ")


@pytest.mark.parametrize(("literal", "shown"), [("NaN", "nan"), ("Infinity", "inf")])
def test_non_finite_price_in_the_file(tmp_path, literal, shown):
    # Python's json module accepts these non-standard literals; the domain refuses them.
    path = tmp_path / "intake.json"
    text = json.dumps(with_value("prices.per_unit", 123456.0)).replace("123456.0", literal)
    path.write_text(text, encoding="utf-8")
    (line,) = file_problems(path)
    assert line.startswith("prices.per_unit: "), line
    assert shown in line

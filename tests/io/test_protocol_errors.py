"""Every invalid field of the protocol contract gets one line: JSON path, value, what is accepted.

The contract (issue): "Invalid input: exit code 2 and one line per problem naming the JSON path,
the value and what is accepted." These tests pin the line produced for each field of the
protocol file, for values a person is likely to type by mistake.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from calfsim.errors import InvalidInputError
from calfsim.io import parse_protocol, read_protocol

MISSING = object()

VALID: dict[str, Any] = {
    "patient": {"sex": "female", "age_years": 30, "height_cm": 165, "weight_kg": 60},
    "legs": {
        "left": {"calf_girth_cm": 36, "ankle_girth_cm": 21, "knee_girth_cm": 35},
        "right": {"calf_girth_cm": 36},
    },
    "sessions": [{"day": 0, "product": "onabotulinumtoxinA", "doses_u": {"left": 100}}],
    "days": [0, 28, 84],
}

PRODUCTS = (
    "onabotulinumtoxinA",
    "incobotulinumtoxinA",
    "prabotulinumtoxinA",
    "abobotulinumtoxinA",
    "letibotulinumtoxinA",
)


def _keys(path: str) -> list[str | int]:
    """``"sessions[0].doses_u.left"`` -> ``["sessions", 0, "doses_u", "left"]``."""
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
        parse_protocol(data)
    return info.value.problems


def test_valid_protocol_parses():
    protocol = parse_protocol(copy.deepcopy(VALID))
    assert [s.value for s in protocol.legs] == ["left", "right"]
    assert protocol.days == (0.0, 28.0, 84.0)


# (path set in VALID, value, path named by the line (None: the same), fragments of the line)
CASES = [
    # patient
    pytest.param("patient.sex", "f", None, ["'female'", "'male'", '"f"'], id="sex-abbreviated"),
    pytest.param("patient.sex", 1, None, ["'female'", "'male'", "got 1"], id="sex-number"),
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
    pytest.param("patient.height_cm", 500, None, ["[120, 230] cm", "got 500"], id="height-huge"),
    pytest.param(
        "patient.weight_kg",
        400,
        None,
        ["[25, 300] kg", "got 400", "400 looks like pounds (181 kg)"],
        id="weight-pounds",
    ),
    pytest.param("patient.weight_kg", 10, None, ["[25, 300] kg", "got 10"], id="weight-tiny"),
    pytest.param("patient", [], None, ["valid dictionary", "got []"], id="patient-not-object"),
    pytest.param("patient.name", "Jane", None, ['got "Jane"'], id="patient-unknown-field"),
    # legs
    pytest.param(
        "legs",
        {},
        None,
        ["left", "right", "{}"],
        id="legs-empty",
    ),
    pytest.param("legs", MISSING, None, ["Field required"], id="legs-missing"),
    pytest.param("legs", [], None, ["valid dictionary", "got []"], id="legs-not-object"),
    pytest.param(
        "legs.middle",
        {"calf_girth_cm": 36},
        None,
        ["'left' or 'right'", '"middle"'],
        id="leg-named-middle",
    ),
    pytest.param("legs.left", 36, None, ["valid dictionary", "got 36"], id="leg-not-object"),
    # legs.<side>.calf_girth_cm
    pytest.param(
        "legs.left.calf_girth_cm",
        14,
        None,
        ["[20, 70] cm", "got 14", "14 looks like inches (35.6 cm)"],
        id="calf-inches",
    ),
    pytest.param("legs.left.calf_girth_cm", 0, None, ["[20, 70] cm", "got 0"], id="calf-zero"),
    pytest.param(
        "legs.right.calf_girth_cm", -3, None, ["[20, 70] cm", "got -3"], id="calf-negative"
    ),
    pytest.param(
        "legs.left.calf_girth_cm", 1e9, None, ["[20, 70] cm", "got 1000000000"], id="calf-1e9"
    ),
    pytest.param("legs.left.calf_girth_cm", "abc", None, ["valid number", '"abc"'], id="calf-text"),
    pytest.param(
        "legs.left.calf_girth_cm", None, None, ["valid number", "got null"], id="calf-null"
    ),
    pytest.param("legs.left.calf_girth_cm", MISSING, None, ["Field required"], id="calf-missing"),
    # other leg measurements
    pytest.param(
        "legs.left.ankle_girth_cm",
        40,
        None,
        ["smaller than calf_girth_cm (36 cm)", "got 40"],
        id="ankle-above-calf",
    ),
    pytest.param(
        "legs.left.ankle_girth_cm",
        36,
        None,
        ["smaller than calf_girth_cm (36 cm)", "got 36"],
        id="ankle-equals-calf",
    ),
    pytest.param("legs.left.ankle_girth_cm", 5, None, ["[14, 45] cm", "got 5"], id="ankle-5"),
    pytest.param(
        "legs.left.knee_girth_cm",
        10,
        None,
        ["[22, 70] cm", "got 10", "looks like inches"],
        id="knee-inches",
    ),
    pytest.param(
        "legs.left.knee_girth_cm",
        20,
        None,
        ["[22, 70] cm", "got 20", "looks like inches"],
        id="knee-20",
    ),
    pytest.param(
        "legs.left.knee_girth_cm",
        26,
        None,
        ["more than 0.75 × calf_girth_cm (27.0 cm)", "got 26"],
        id="knee-thinner-than-calf",
    ),
    pytest.param("legs.left.lower_leg_length_cm", 5, None, ["[25, 60] cm", "got 5"], id="length-5"),
    pytest.param(
        "legs.left.lower_leg_length_cm",
        15,
        None,
        ["[25, 60] cm", "got 15", "looks like inches"],
        id="length-inches",
    ),
    pytest.param(
        "legs.left.fat_thickness_mm",
        0.3,
        None,
        ["[0.5, 60] mm", "got 0.3", "0.3 looks like centimetres (3 mm)"],
        id="fat-centimetres",
    ),
    pytest.param(
        "legs.left.fat_thickness_mm", 300, None, ["[0.5, 60] mm", "got 300"], id="fat-300"
    ),
    pytest.param(
        "legs.left.fat_thickness_mm",
        40,
        None,
        ["at most half the calf radius (29 mm for a 36 cm calf)", "got 40"],
        id="fat-over-half-radius",
    ),
    pytest.param(
        "legs.left.gm_thickness_mm",
        1.8,
        None,
        ["[5, 50] mm", "got 1.8", "1.8 looks like centimetres (18 mm)"],
        id="gm-centimetres",
    ),
    pytest.param("legs.left.gm_thickness_mm", 80, None, ["[5, 50] mm", "got 80"], id="gm-80"),
    # sessions
    pytest.param("sessions", {}, None, ["valid list", "got {}"], id="sessions-not-list"),
    pytest.param("sessions[0].day", -1, None, ["[0, 3653] days", "got -1"], id="day-negative"),
    pytest.param(
        "sessions[0].day", 99999, None, ["[0, 3653] days", "got 99999"], id="day-too-late"
    ),
    pytest.param("sessions[0].day", MISSING, None, ["Field required"], id="day-missing"),
    pytest.param("sessions[0].product", "botox", None, [*PRODUCTS, '"botox"'], id="product-brand"),
    pytest.param("sessions[0].product", MISSING, None, ["Field required"], id="product-missing"),
    pytest.param(
        "sessions[0].doses_u.left", -10, None, ["[0, 1500] U", "got -10"], id="dose-negative"
    ),
    pytest.param(
        "sessions[0].doses_u.left", 2000, None, ["[0, 1500] U", "got 2000"], id="dose-2000"
    ),
    pytest.param(
        "sessions[0].doses_u.left",
        {"gm_medial": -5},
        "sessions[0].doses_u.left.gm_medial",
        ["[0, 1500] U", "got -5"],
        id="head-dose-negative",
    ),
    pytest.param(
        "sessions[0].doses_u.left",
        {"gm_medial": 800, "gm_lateral": 800},
        None,
        ["at most 1500 U", "got 1600"],
        id="head-doses-total",
    ),
    pytest.param(
        "sessions[0].doses_u.left",
        {"gastrocnemius": 50},
        "sessions[0].doses_u.left.gastrocnemius",
        ["'gm_medial'", "'gm_lateral'", "'soleus'", '"gastrocnemius"'],
        id="head-unknown",
    ),
    pytest.param(
        "sessions[0].doses_u.left",
        "lots",
        None,
        ['"lots"', "number"],
        id="dose-text",
    ),
    pytest.param(
        "sessions[0].doses_u.middle", 50, None, ["'left' or 'right'", '"middle"'], id="dose-side"
    ),
    pytest.param("sessions[0].units", "U", None, ['got "U"'], id="session-unknown-field"),
    # days
    pytest.param(
        "days",
        [],
        None,
        ["at least", "[]"],
        id="days-empty",
    ),
    pytest.param(
        "days",
        [-1],
        None,
        ["[0, 3653] days", "got -1"],
        id="days-negative",
    ),
    pytest.param("days", ["x"], "days[0]", ["valid number", '"x"'], id="days-text"),
    pytest.param("days", 5, None, ["valid list", "got 5"], id="days-not-list"),
    # allow_extrapolation
    pytest.param(
        "allow_extrapolation", "maybe", None, ["valid boolean", '"maybe"'], id="extrapolate-maybe"
    ),
    pytest.param("allow_extrapolation", 2, None, ["valid boolean", "got 2"], id="extrapolate-2"),
    # top level
    pytest.param("protocol_version", 1, None, ["got 1"], id="top-unknown-field"),
]


@pytest.mark.parametrize(("path", "value", "named", "fragments"), CASES)
def test_invalid_field_gives_one_line_naming_path_value_and_accepted(path, value, named, fragments):
    problems = problems_of(with_value(path, value))
    assert len(problems) == 1, problems
    line = problems[0]
    assert line.startswith(f"{named or path}: "), line
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"


@pytest.mark.parametrize("value", [0, -3, 1e9])
def test_no_unit_hint_when_no_unit_fits(value):
    (line,) = problems_of(with_value("legs.left.calf_girth_cm", value))
    assert "looks like" not in line


def test_pound_hint_only_above_the_range():
    (line,) = problems_of(with_value("patient.weight_kg", 10))
    assert "pounds" not in line


def test_a_dose_for_a_leg_without_measurements_is_refused():
    data = with_value("legs.right", MISSING)
    data["sessions"][0]["doses_u"] = {"right": 50}
    (line,) = problems_of(data)
    assert "right" in line
    assert "no measurements" in line


def test_a_dose_for_a_leg_without_measurements_names_the_dose_path():
    data = with_value("legs.right", MISSING)
    data["sessions"][0]["doses_u"] = {"right": 50}
    (line,) = problems_of(data)
    assert line.startswith("sessions[0].doses_u.right: "), line
    assert "legs.right" in line


@pytest.mark.parametrize(
    ("path", "accepted"),
    [
        pytest.param("patient.name", ["sex", "age_years", "height_cm", "weight_kg"], id="patient"),
        pytest.param(
            "legs.left.calf_girth",
            ["calf_girth_cm", "ankle_girth_cm", "knee_girth_cm", "gm_thickness_mm"],
            id="leg",
        ),
        pytest.param("sessions[0].units", ["day", "product", "doses_u"], id="session"),
        pytest.param("protocol_version", ["patient", "legs", "sessions", "days"], id="top-level"),
    ],
)
def test_an_unknown_field_lists_the_accepted_fields(path, accepted):
    # A typo such as "calf_girth" (without _cm) should point to the right name.
    (line,) = problems_of(with_value(path, 36))
    assert line.startswith(f"{path}: ")
    assert "got 36" in line
    for name in accepted:
        assert name in line, f"{name!r} not in {line!r}"


def test_a_zero_dose_and_a_control_leg_are_valid():
    data = with_value("sessions[0].doses_u", {"left": 0})
    assert parse_protocol(data).sessions[0].doses_u


def test_allow_extrapolation_accepts_true():
    assert parse_protocol(with_value("allow_extrapolation", True)).allow_extrapolation
    assert not parse_protocol(copy.deepcopy(VALID)).allow_extrapolation


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param("legs.left.calf_girth_cm", "36", id="girth-as-string"),
        pytest.param("sessions[0].doses_u.left", "100", id="dose-as-string"),
        pytest.param("allow_extrapolation", "yes", id="extrapolate-yes"),
    ],
)
def test_values_of_the_wrong_json_type_are_refused(path, value):
    # The contract types these as JSON numbers / a JSON boolean; the safety opt-in in
    # particular should not be switched on by a string.
    problems_of(with_value(path, value))


def test_a_boolean_girth_is_shown_as_typed():
    (line,) = problems_of(with_value("legs.left.calf_girth_cm", True))
    assert "true" in line.lower(), line


@pytest.mark.parametrize("top", [[], "protocol", None, 3])
def test_top_level_must_be_an_object(top):
    (line,) = problems_of(top)
    assert line.startswith("(top level): ")
    assert "valid dictionary" in line
    assert json.dumps(top) in line


# --- several problems at once ------------------------------------------------------------------


def test_several_plausibility_problems_give_several_lines():
    data = with_value("legs.left.calf_girth_cm", 14)
    data = with_value("legs.right.calf_girth_cm", 15, base=data)
    data = with_value("sessions[0].day", -1, base=data)
    problems = problems_of(data)
    assert [p.split(": ", 1)[0] for p in problems] == [
        "legs.left.calf_girth_cm",
        "legs.right.calf_girth_cm",
        "sessions[0].day",
    ]


def test_several_schema_problems_give_several_lines():
    data = with_value("patient.sex", "f")
    data = with_value("sessions[0].product", "botox", base=data)
    data = with_value("days", ["x", 7, "y"], base=data)
    paths = [p.split(": ", 1)[0] for p in problems_of(data)]
    assert paths == ["patient.sex", "sessions[0].product", "days[0]", "days[2]"]


def test_schema_and_plausibility_problems_are_reported_together():
    data = with_value("legs.left.calf_girth_cm", 14)
    data = with_value("legs.right.calf_girth_cm", 15, base=data)
    data = with_value("sessions[0].product", "botox", base=data)
    paths = {p.split(": ", 1)[0] for p in problems_of(data)}
    assert paths == {
        "legs.left.calf_girth_cm",
        "legs.right.calf_girth_cm",
        "sessions[0].product",
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param(
            {"legs.left.calf_girth_cm": 14, "legs.left.gm_thickness_mm": 1.8},
            {"legs.left.calf_girth_cm", "legs.left.gm_thickness_mm"},
            id="leg",
        ),
        pytest.param(
            {"patient.age_years": 5, "patient.weight_kg": 400},
            {"patient.age_years", "patient.weight_kg"},
            id="patient",
        ),
    ],
)
def test_two_bad_fields_of_one_object_give_two_lines(changes, expected):
    data = copy.deepcopy(VALID)
    for path, value in changes.items():
        data = with_value(path, value, base=data)
    assert {p.split(": ", 1)[0] for p in problems_of(data)} == expected


def test_error_is_a_value_error_and_its_message_joins_the_problems():
    data = with_value("legs.left.calf_girth_cm", 14)
    data = with_value("legs.right.calf_girth_cm", 15, base=data)
    with pytest.raises(ValueError, match="calf_girth_cm") as info:
        parse_protocol(data)
    assert isinstance(info.value, InvalidInputError)
    assert str(info.value) == "\n".join(info.value.problems)
    assert all("\n" not in line for line in info.value.problems)


# --- the file ----------------------------------------------------------------------------------


def file_problems(path: Path) -> tuple[str, ...]:
    with pytest.raises(InvalidInputError) as info:
        read_protocol(path)
    return info.value.problems


def test_read_protocol_reads_the_example(example_path):
    protocol = read_protocol(example_path)
    assert len(protocol.legs) == 2
    assert protocol.days[-1] == 365.0


def test_missing_file(tmp_path):
    path = tmp_path / "nope.json"
    (line,) = file_problems(path)
    assert line.startswith(f"{path}: ")
    assert "cannot read the file" in line


def test_file_that_is_not_json(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"legs": {"left": {"calf_girth_cm": 36}', encoding="utf-8")
    (line,) = file_problems(path)
    assert line.startswith(f"{path}: not valid JSON (line 1, column ")


def test_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "p.json"
    path.write_bytes('{"legs": {"left": {"calf_girth_cm": 36}}, "x": "é"}'.encode("latin-1"))
    (line,) = file_problems(path)
    assert line == f"{path}: not a UTF-8 text file"


def test_file_too_large(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(VALID) + " " * 1_000_000, encoding="utf-8")
    (line,) = file_problems(path)
    assert line.startswith(f"{path}: protocol files must be at most 1,000,000 bytes; got ")


def test_file_whose_top_level_is_a_list(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps([VALID]), encoding="utf-8")
    (line,) = file_problems(path)
    assert line.startswith("(top level): ")
    assert "valid dictionary" in line


@pytest.mark.parametrize(("literal", "shown"), [("NaN", "nan"), ("Infinity", "inf")])
def test_non_finite_number_in_the_file(tmp_path, literal, shown):
    # Python's json module accepts these non-standard literals; the domain refuses them.
    path = tmp_path / "p.json"
    path.write_text('{"legs": {"left": {"calf_girth_cm": LIT}}}'.replace("LIT", literal))
    (line,) = file_problems(path)
    assert line == (
        f"legs.left.calf_girth_cm: calf_girth_cm must be a finite number in cm; got {shown}"
    )


def test_file_content_problems_keep_their_json_paths(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(with_value("legs.left.calf_girth_cm", 14)), encoding="utf-8")
    (line,) = file_problems(path)
    assert line.startswith("legs.left.calf_girth_cm: ")


def test_a_directory_is_refused(tmp_path):
    (line,) = file_problems(tmp_path)
    assert line.startswith(f"{tmp_path}: cannot read the file")


def test_deeply_nested_json_is_refused(tmp_path):
    path = tmp_path / "p.json"
    path.write_text("[" * 200_000, encoding="utf-8")
    (line,) = file_problems(path)
    assert line.startswith(f"{path}: ")

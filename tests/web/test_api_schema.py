"""Property run of the OpenAPI schema (schemathesis): generated requests never get a 5xx.

Kept small (a few examples per operation, cheap simulations) so that the whole run stays
well under a minute; the only check is ``not_a_server_error``: 4xx answers to generated
nonsense are the point. schemathesis' own pytest plugin does not work with pytest 9 yet, so
each operation's strategy is driven by a plain Hypothesis test.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from calfsim.web import create_app

from .conftest import TEST_SECRET

#: Examples per operation: enough to reach valid and invalid bodies of each contract.
MAX_EXAMPLES = 12
#: Fewer where a valid request costs seconds (a PDF render; a 3D simulation).
MAX_EXAMPLES_OF = {"POST /api/plan.pdf": 3, "POST /api/simulate": 6}


def _schema() -> Any:
    app = create_app(
        db_url="sqlite://",
        secret=TEST_SECRET,
        predict_n_samples=100,
        simulate_n_samples=100,
        simulate_n_around=32,
    )
    return schemathesis.openapi.from_asgi("/api/openapi.json", app)


SCHEMA = _schema()
OPERATIONS = {result.ok().label: result.ok() for result in SCHEMA.get_all_operations()}


def test_every_api_route_is_in_the_run() -> None:
    assert {label.split(" ", 1)[1] for label in OPERATIONS} >= {
        "/api/predict",
        "/api/plan",
        "/api/plan.pdf",
        "/api/evidence",
        "/api/measure",
        "/api/simulate",
        "/api/simulations/{simulation_id}",
        "/api/simulations/{simulation_id}/legs.glb",
    }


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_no_server_errors(label: str) -> None:
    operation = OPERATIONS[label]

    # Schema-valid data, deliberately invalid data and the documented examples (the only
    # way to reach the 200 paths often: random protocols are rarely plausible people).
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
        *operation.get_strategies_from_examples(),
    )

    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES_OF.get(label, MAX_EXAMPLES),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: Any) -> None:
        # Small sample counts: the run checks robustness, not speed.
        if case.query and isinstance(case.query.get("n_samples"), int):
            case.query["n_samples"] = min(case.query["n_samples"], 200)
        case.call_and_validate(checks=[not_a_server_error])

    run()

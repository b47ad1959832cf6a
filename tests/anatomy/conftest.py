"""Shared helpers for the anatomy tests."""

from __future__ import annotations

import pytest

from calfsim.anatomy import LegAnatomy, build_leg_anatomy
from calfsim.domain import LegMeasurements, Patient, Sex, Side
from calfsim.evidence import EvidenceBase, load_evidence


@pytest.fixture(scope="session")
def ev() -> EvidenceBase:
    return load_evidence()


def _build(
    calf_girth_cm: float,
    *,
    sex: Sex | None = Sex.FEMALE,
    side: Side = Side.LEFT,
    height_cm: float | None = None,
    n_levels: int = 61,
    **measured: float,
) -> LegAnatomy:
    """Build a leg from a calf girth and any other measurements given by name."""
    return build_leg_anatomy(
        LegMeasurements(calf_girth_cm=calf_girth_cm, **measured),
        Patient(sex=sex, height_cm=height_cm),
        side=side,
        n_levels=n_levels,
    )


@pytest.fixture(scope="session")
def build():
    """``build(calf_girth_cm, *, sex=FEMALE, side=LEFT, height_cm=None, **measured)``."""
    return _build

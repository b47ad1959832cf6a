"""The model against every calibration point of the evidence (used by docs/model.md and tests).

Each function returns a `CalibrationPoint` set: the observed values, the model's median and
p10/p90 at the same conditions, and the residuals (observed − model median). Time-course
*shapes* are compared normalised to their own nadir, because those studies' doses and muscles
differ from the calf's; magnitudes are compared where the dose density is known.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from calfsim.domain import LegDose, LegMeasurements, Patient, Protocol, Session, Sex, Side
from calfsim.domain import ToxinProduct as Product
from calfsim.evidence import EvidenceBase
from calfsim.response import (
    block_amplitude_frac,
    population_prior,
    sample_params,
    simulate_atrophy_frac,
)
from calfsim.simulation._predict import predict, simulate_courses

__all__ = [
    "CalibrationPoints",
    "chang_repeated_sessions",
    "cp_time_course",
    "fortuna_maximal_atrophy",
    "masseter_time_course",
    "park_dose_response",
]

FloatArray = NDArray[np.float64]
#: Typical baseline calf girth of the calf-BoNT series (35-37 cm, evidence §4.1 cross-checks).
PARK_BASELINE_GIRTH_CM = 36.0


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CalibrationPoints:
    """Observed vs modelled values at matching conditions ``x`` (dose, week, ...)."""

    name: str
    x: FloatArray
    x_label: str
    observed: FloatArray
    median: FloatArray
    p10: FloatArray
    p90: FloatArray
    unit: str
    sources: tuple[str, ...]
    note: str

    @property
    def residual(self) -> FloatArray:
        """Observed minus model median."""
        return np.asarray(self.observed - self.median, dtype=np.float64)

    @property
    def is_inside_band(self) -> NDArray[np.bool_]:
        """Whether each observation lies inside the model's p10-p90 band."""
        # 1e-9: observed values normalised to their own nadir are exactly 1 at the nadir.
        low = np.minimum(self.p10, self.p90) - 1e-9
        high = np.maximum(self.p10, self.p90) + 1e-9
        return np.asarray((self.observed >= low) & (self.observed <= high))


def _population(ev: EvidenceBase, n: int, seed: int) -> dict[str, FloatArray]:
    params = sample_params(population_prior(ev), n, np.random.default_rng(seed))
    return params.values


def _course(
    values: dict[str, FloatArray],
    amplitude: FloatArray,
    session_days: list[float],
    t_days: FloatArray,
) -> FloatArray:
    amp = np.broadcast_to(amplitude, (len(session_days), 1, amplitude.shape[-1])).copy()
    atrophy: FloatArray = simulate_atrophy_frac(
        t_days,
        np.asarray(session_days, dtype=np.float64),
        amp,
        tau_on_days=values["tau_on_days"],
        tau_off_days=values["tau_off_days"],
        repeat_slowing_ratio=values["repeat_slowing_ratio"],
        tau_atr_days=values["tau_atr_days"],
        tau_reg_days=values["tau_reg_days"],
        a_max_frac=values["a_max_frac"],
    )[0]
    return atrophy


def _amplitude(values: dict[str, FloatArray], density_u_per_cm3: float) -> FloatArray:
    return block_amplitude_frac(
        density_u_per_cm3 * values["sensitivity_ratio"],
        ed50_u_per_cm3=values["ed50_u_per_cm3"],
        hill_ratio=values["hill_ratio"],
    )


def _shape(
    name: str,
    ev: EvidenceBase,
    *,
    weeks_key: str,
    values_key: str,
    density_u_per_cm3: float,
    n: int,
    seed: int,
    note: str,
) -> CalibrationPoints:
    weeks = np.asarray(ev.series(weeks_key))
    observed = np.asarray(ev.series(values_key))
    values = _population(ev, n, seed)
    t = np.arange(0.0, 7 * 60.0)
    a = _course(values, _amplitude(values, density_u_per_cm3), [0.0], t)
    # Each virtual patient's course sampled at the published weeks and normalised to its
    # nadir among them, exactly as the observed series is.
    sampled = a[:, (weeks * 7).astype(int)]
    ratio = sampled / np.maximum(sampled.max(axis=1, keepdims=True), 1e-12)
    p10, median, p90 = np.percentile(ratio, [10, 50, 90], axis=0)
    return CalibrationPoints(
        name=name,
        x=weeks,
        x_label="weeks after injection",
        observed=observed / observed.min(),
        median=median,
        p10=p10,
        p90=p90,
        unit="fraction of nadir",
        sources=tuple(c.key for c in ev.item(values_key).sources),
        note=note,
    )


def masseter_time_course(ev: EvidenceBase, *, n: int = 2000, seed: int = 1) -> CalibrationPoints:
    """Masseter width series (abobotulinumtoxinA 90 U per side) against the model's shape."""
    ratio = ev.number("products.abo_per_ona_ratio")
    density = 90.0 / ratio / ev.number("calibration.chang2019_volume_cm3")
    return _shape(
        "Masseter time course (Brazil 2014)",
        ev,
        weeks_key="calibration.masseter_brazil_weeks",
        values_key="calibration.masseter_brazil_width_change_frac",
        density_u_per_cm3=density,
        n=n,
        seed=seed,
        note="Face width normalised to its nadir; masseter volume from Chang 2019.",
    )


def cp_time_course(ev: EvidenceBase, *, n: int = 2000, seed: int = 2) -> CalibrationPoints:
    """Gastrocnemius volume after a first injection in cerebral palsy, as a shape."""
    return _shape(
        "Cerebral-palsy gastrocnemius volume (6-month MRI cohort)",
        ev,
        weeks_key="calibration.cp_weeks",
        values_key="calibration.cp_gm_volume_change_frac",
        density_u_per_cm3=ev.number("response.ed50_u_per_cm3"),
        n=n,
        seed=seed,
        note="Volume normalised to its nadir; dose not in the abstract, so B = 0.5 (ED50).",
    )


def chang_repeated_sessions(ev: EvidenceBase, *, n: int = 2000, seed: int = 3) -> CalibrationPoints:
    """Masseter volume 1 year after the third of three sessions 6 months apart."""
    interval = ev.number("calibration.chang2019_interval_weeks") * 7
    sessions = [k * interval for k in range(int(ev.number("calibration.chang2019_sessions")))]
    follow = sessions[-1] + ev.number("calibration.chang2019_followup_weeks") * 7
    density = ev.number("calibration.chang2019_dose_u") / ev.number(
        "calibration.chang2019_volume_cm3"
    )
    values = _population(ev, n, seed)
    t = np.arange(0.0, follow + 1.0)
    a = _course(values, _amplitude(values, density), sessions, t)[:, int(follow)]
    p10, median, p90 = np.percentile(-a, [10, 50, 90])
    return CalibrationPoints(
        name="Repeated sessions (Chang 2019, masseter, 3 × every 6 months)",
        x=np.array([follow / 7]),
        x_label="weeks after the first session",
        observed=np.array([ev.number("calibration.chang2019_volume_change_frac")]),
        median=np.array([median]),
        p10=np.array([p10]),
        p90=np.array([p90]),
        unit="volume change (fraction)",
        sources=("chang2019",),
        note=f"Dose density {density:.2f} U/cm³ (24 U into a 26.4 cm³ masseter).",
    )


def fortuna_maximal_atrophy(ev: EvidenceBase, *, n: int = 2000, seed: int = 4) -> CalibrationPoints:
    """Rabbit muscle mass under monthly re-injection: the bound on maximal atrophy."""
    months = np.asarray(ev.series("calibration.fortuna2011_months"))
    days_per_month = 365.25 / 12
    block = ev.number("calibration.fortuna2011_block_frac")
    values = _population(ev, n, seed)
    sessions = [k * days_per_month for k in range(int(months.max()))]
    t = np.arange(0.0, months.max() * days_per_month + 2)
    a = _course(values, np.full(n, block), sessions, t)
    idx = np.round(months * days_per_month).astype(int)
    p10, median, p90 = np.percentile(-a[:, idx], [10, 50, 90], axis=0)
    return CalibrationPoints(
        name="Maximal atrophy (Fortuna 2011, rabbit, monthly injections)",
        x=months,
        x_label="months of monthly injections",
        observed=np.asarray(ev.series("calibration.fortuna2011_mass_change_frac")),
        median=median,
        p10=p10,
        p90=p90,
        unit="mass change (fraction)",
        sources=("fortuna2011",),
        note=f"Block amplitude {block:g} per monthly session (near-complete block, inferred).",
    )


def park_dose_response(
    ev: EvidenceBase, *, week: float, n: int = 4000, seed: int = 5
) -> tuple[CalibrationPoints, CalibrationPoints]:
    """Park 2005 (calf): girth change and CT area change at 50/100/150 U per calf.

    The abstract does not say at which visit the figures were taken (evidence: assume the
    last, 6 months), so this is evaluated at ``week``. Returns the girth comparison and the
    gastrocnemius cross-section comparison (the CT "maximal area" is probably muscle area).
    """
    doses = np.asarray(ev.series("studies.park2005_dose_u"))
    day = float(week * 7)
    girth = []
    area = []
    for dose in doses:
        protocol = Protocol(
            patient=Patient(sex=Sex.FEMALE),
            legs={Side.LEFT: LegMeasurements(calf_girth_cm=PARK_BASELINE_GIRTH_CM)},
            sessions=(
                Session(
                    day=0,
                    product=Product.ONABOTULINUMTOXINA,
                    doses_u={Side.LEFT: LegDose(total_u=float(dose))},
                ),
            ),
            days=(0.0, day),
        )
        result = predict(protocol, n_samples=n, rng=seed).legs[Side.LEFT]
        band = result.calf_girth_change_cm
        girth.append((band.p10[1], band.median[1], band.p90[1]))
        values = sample_params(population_prior(ev), n, np.random.default_rng(seed))
        course = simulate_courses(protocol, np.arange(0.0, day + 1), values)[Side.LEFT]
        gm = sum(
            course.anatomy.muscle_area_cm2(h)[course.anatomy.calf_level_index]
            * course.atrophy_frac[h][:, -1]
            for h in course.atrophy_frac
            if h.value.startswith("gm_")
        )
        gm_area = sum(
            course.anatomy.muscle_area_cm2(h)[course.anatomy.calf_level_index]
            for h in course.atrophy_frac
            if h.value.startswith("gm_")
        )
        area.append(tuple(np.percentile(-gm / gm_area, [10, 50, 90])))
    g = np.asarray(girth)
    a = np.asarray(area)
    x_label = "U per calf (onabotulinumtoxinA-equivalent)"
    return (
        CalibrationPoints(
            name=f"Park 2005 calf girth change at week {week:g}",
            observed=np.asarray(ev.series("studies.park2005_girth_change_cm")),
            p10=g[:, 0],
            median=g[:, 1],
            p90=g[:, 2],
            unit="cm",
            sources=("park2005",),
            note=f"Woman, baseline {PARK_BASELINE_GIRTH_CM:g} cm; time point of the data unknown.",
            x=doses,
            x_label=x_label,
        ),
        CalibrationPoints(
            name=f"Park 2005 CT area change vs model gastrocnemius area at week {week:g}",
            observed=np.asarray(ev.series("studies.park2005_ct_area_change_frac")),
            p10=a[:, 0],
            median=a[:, 1],
            p90=a[:, 2],
            unit="fraction",
            sources=("park2005",),
            note="Assumes the CT 'maximal area' is gastrocnemius cross-section (unclear).",
            x=doses,
            x_label=x_label,
        ),
    )

"""Use case: predict how each calf changes over time for a protocol, with bands.

Composes the anatomy (tissue areas along each leg) and the response model (atrophy of each
injected head) into girth changes at every level, for a seeded Monte Carlo population.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from calfsim.anatomy import (
    LegAnatomy,
    build_leg_anatomy,
    default_head_split_frac,
    girth_from_area_cm,
)
from calfsim.domain import MuscleHead, Protocol, RecentToxin, Side
from calfsim.errors import ExtrapolationWarning, InvalidInputError, OutsideEvidenceError
from calfsim.evidence import EvidenceBase, load_evidence
from calfsim.response import (
    MODEL_VERSION,
    RATIO_PARAMETER,
    SampledParams,
    block_amplitude_frac,
    central_ona_equivalent_u,
    integration_grid_days,
    iter_atrophy_frac,
    ona_equivalent_u,
    population_prior,
    sample_params,
)
from calfsim.simulation._prediction import Band, LegPrediction, Prediction
from calfsim.simulation._safety import check_dose_in_evidence, check_treatment_safety

__all__ = ["HEADS", "LegCourse", "calf_girth_daily_cm", "predict", "simulate_courses"]

FloatArray = NDArray[np.float64]
HEADS = (MuscleHead.GM_MEDIAL, MuscleHead.GM_LATERAL, MuscleHead.SOLEUS)
GM_HEADS = (MuscleHead.GM_MEDIAL, MuscleHead.GM_LATERAL)
MAX_SAMPLES = 200_000
MAX_CACHED_POPULATION = 4_000
"""Populations up to this many virtual patients are kept per seed (`_shipped_population`)."""
#: Steps of `predict`'s integration grid away from sessions. Its reported days are grid points
#: (nothing is interpolated), so fortnightly exact-exponential steps lose almost nothing:
#: percentiles within 0.0015 cm of a daily grid (9 protocols, tested), where the daily path
#: (`calf_girth_daily_cm`), which interpolates between grid points, keeps weekly steps.
_PREDICT_COARSE_STEP_DAYS = 14.0


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LegCourse:
    """Per-sample course of one leg on a time grid (the raw Monte Carlo result).

    ``atrophy_frac[head]`` and ``compensation_frac`` have shape (n_samples, n_t);
    ``compensation_frac`` is the fraction of the gastrocnemius loss offset at each time;
    ``gm_size_ratio`` scales the gastrocnemius volume (anatomy uncertainty) and
    ``gm_area_ratio`` (size × between-study ratio) the area that shows in the girth.
    """

    anatomy: LegAnatomy
    t_days: FloatArray
    atrophy_frac: dict[MuscleHead, FloatArray]
    compensation_frac: FloatArray
    gm_size_ratio: FloatArray
    gm_area_ratio: FloatArray
    comp_soleus_frac: FloatArray
    head_dose_u: dict[MuscleHead, tuple[float, ...]]

    def area_change_cm2(
        self, level_index: int | slice, t_index: int | slice | NDArray[np.intp]
    ) -> FloatArray:
        """Net change of section area (negative = smaller) at levels × times, per sample.

        Returns an array of shape (n_samples, n_t_selected, n_levels_selected).
        """

        def loss(head: MuscleHead) -> FloatArray:
            area = np.atleast_1d(self.anatomy.muscle_area_cm2(head)[level_index])
            a = np.atleast_2d(self.atrophy_frac[head][:, t_index].T).T
            return np.asarray(a[:, :, None] * area[None, None, :], dtype=np.float64)

        gm_loss = (loss(MuscleHead.GM_MEDIAL) + loss(MuscleHead.GM_LATERAL)) * (
            self.gm_area_ratio[:, None, None]
        )
        kept = 1.0 - np.atleast_2d(self.compensation_frac[:, t_index].T).T[:, :, None]
        return np.asarray(-gm_loss * kept - loss(MuscleHead.SOLEUS), dtype=np.float64)

    def head_volume_change_frac(self, head: MuscleHead) -> FloatArray:
        """Fractional volume change of ``head`` per sample and time (negative = atrophy)."""
        if head in GM_HEADS:
            return -self.atrophy_frac[head]
        gm_loss_cm3 = sum(
            self.atrophy_frac[h] * self.anatomy.volume_cm3(h) * self.gm_size_ratio[:, None]
            for h in GM_HEADS
        )
        gain = self.comp_soleus_frac[:, None] * self.compensation_frac * gm_loss_cm3
        return np.asarray(
            -self.atrophy_frac[head] + gain / self.anatomy.volume_cm3(head), dtype=np.float64
        )


def _resolve_head_doses(
    protocol: Protocol, side: Side, anatomy: LegAnatomy
) -> dict[MuscleHead, tuple[float, ...]]:
    split = default_head_split_frac(anatomy)
    doses: dict[MuscleHead, list[float]] = {h: [] for h in HEADS}
    for session in protocol.sessions:
        leg_dose = session.doses_u.get(side)
        for head in HEADS:
            if leg_dose is None:
                amount = 0.0
            elif leg_dose.by_head_u is not None:
                amount = float(leg_dose.by_head_u.get(head, 0.0))
            else:
                amount = float(leg_dose.amount_u) * split.get(head, 0.0)
            doses[head].append(amount)
    return {h: tuple(v) for h, v in doses.items()}


def _check_protocol(
    protocol: Protocol,
    ev: EvidenceBase,
    prior_toxin: tuple[RecentToxin, ...],
    min_interval_days: float | None,
) -> list[str]:
    check_treatment_safety(
        protocol.sessions, ev, prior_toxin=prior_toxin, min_interval_days=min_interval_days
    )
    notes: list[str] = []
    for session in protocol.sessions:
        for side, leg_dose in session.doses_u.items():
            ona_u = central_ona_equivalent_u(leg_dose.amount_u, session.product, ev)
            try:
                check_dose_in_evidence(ona_u, ev, day=session.day, side=side.value)
            except OutsideEvidenceError as exc:
                if not protocol.allow_extrapolation:
                    raise
                warnings.warn(str(exc), ExtrapolationWarning, stacklevel=3)
                notes.append(str(exc))
    return notes


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _LegSetup:
    anatomy: LegAnatomy
    head_dose_u: dict[MuscleHead, tuple[float, ...]]
    dosed: tuple[MuscleHead, ...]
    amplitudes: FloatArray  # (n_sessions, n_dosed, n)


def _leg_setup(protocol: Protocol, side: Side, params: SampledParams) -> _LegSetup:
    """Anatomy, doses per head and block amplitudes of one leg for every virtual patient."""
    n = params.n
    anatomy = build_leg_anatomy(protocol.legs[side], protocol.patient, side=side)
    head_dose_u = _resolve_head_doses(protocol, side, anatomy)
    dosed = tuple(h for h in HEADS if any(u > 0 for u in head_dose_u[h]))
    amplitudes = np.zeros((len(protocol.sessions), len(dosed), n))
    for j, head in enumerate(dosed):
        volume = anatomy.volume_cm3(head)
        size = params.get("gm_size_ratio") if head in GM_HEADS else np.ones(n)
        for k, session in enumerate(protocol.sessions):
            amount = head_dose_u[head][k]
            if amount <= 0:
                continue
            name = RATIO_PARAMETER[session.product]
            ratio = params.get(name) if name else 1.0
            ona = ona_equivalent_u(amount, session.product, ratio)
            density = ona / (volume * size) * params.get("sensitivity_ratio")
            amplitudes[k, j] = block_amplitude_frac(
                density,
                ed50_u_per_cm3=params.get("ed50_u_per_cm3"),
                hill_ratio=params.get("hill_ratio"),
            )
    return _LegSetup(anatomy=anatomy, head_dose_u=head_dose_u, dosed=dosed, amplitudes=amplitudes)


def _atrophy_chunks(
    setups: dict[Side, _LegSetup],
    protocol: Protocol,
    t_days: FloatArray,
    params: SampledParams,
) -> Iterator[tuple[int, NDArray[np.float32]]]:
    """Integrate the dosed heads of all legs together (they share each patient's kinetics).

    Heads are stacked leg by leg in ``setups`` order, each leg's in ``setup.dosed`` order.
    """
    amplitudes = np.concatenate([s.amplitudes for s in setups.values()], axis=1)
    return iter_atrophy_frac(
        t_days,
        np.array([s.day for s in protocol.sessions], dtype=np.float64),
        amplitudes,
        tau_on_days=params.get("tau_on_days"),
        tau_off_days=params.get("tau_off_days"),
        repeat_slowing_ratio=params.get("repeat_slowing_ratio"),
        tau_atr_days=params.get("tau_atr_days"),
        tau_reg_days=params.get("tau_reg_days"),
        a_max_frac=params.get("a_max_frac"),
    )


def _head_offsets(setups: dict[Side, _LegSetup]) -> dict[Side, int]:
    offsets: dict[Side, int] = {}
    start = 0
    for side, setup in setups.items():
        offsets[side] = start
        start += len(setup.dosed)
    return offsets


def _compensation_frac(protocol: Protocol, t_days: FloatArray, params: SampledParams) -> FloatArray:
    """Fraction of the gastrocnemius loss offset at each time, shape (n, n_t)."""
    first_day = protocol.sessions[0].day if protocol.sessions else 0.0
    since = np.maximum(t_days - first_day, 0.0)
    return np.asarray(
        params.get("kappa_frac")[:, None]
        * (1.0 - np.exp(-since[None, :] / params.get("tau_comp_days")[:, None])),
        dtype=np.float64,
    )


def simulate_courses(
    protocol: Protocol,
    t_days: FloatArray,
    params: SampledParams,
    *,
    keep_index: NDArray[np.intp] | None = None,
) -> dict[Side, LegCourse]:
    """Simulate every leg of ``protocol`` on the grid ``t_days`` for the sampled population.

    Parameters
    ----------
    protocol : Protocol
    t_days : ndarray, shape (n_t,)
        Increasing time grid, starting at 0 (the integration grid).
    params : SampledParams
        One parameter set per virtual patient (shared by both legs of that patient).
    keep_index : ndarray of int, optional
        Grid indices to keep in the result (default: all). Integration still uses the whole
        grid; keeping few points keeps memory small.

    Returns
    -------
    dict of Side to LegCourse
        Courses on ``t_days[keep_index]``.
    """
    n = params.n
    keep = np.arange(t_days.size) if keep_index is None else np.asarray(keep_index)
    position = {int(i): j for j, i in enumerate(keep)}
    kept_t = t_days[keep]
    setups = {side: _leg_setup(protocol, side, params) for side in protocol.legs}
    n_dosed = sum(len(s.dosed) for s in setups.values())
    atrophy = np.zeros((n_dosed, n, keep.size))
    if n_dosed:
        for i0, chunk in _atrophy_chunks(setups, protocol, t_days, params):
            for i in range(i0, i0 + chunk.shape[0]):
                if i in position:
                    atrophy[:, :, position[i]] = chunk[i - i0]
    compensation = _compensation_frac(protocol, kept_t, params)
    offsets = _head_offsets(setups)
    courses: dict[Side, LegCourse] = {}
    for side, setup in setups.items():
        by_head = {h: np.zeros((n, keep.size)) for h in HEADS}
        by_head.update({h: atrophy[offsets[side] + j] for j, h in enumerate(setup.dosed)})
        courses[side] = LegCourse(
            anatomy=setup.anatomy,
            t_days=kept_t,
            atrophy_frac=by_head,
            compensation_frac=compensation,
            gm_size_ratio=params.get("gm_size_ratio"),
            gm_area_ratio=params.get("gm_size_ratio") * params.get("study_ratio"),
            comp_soleus_frac=params.get("comp_soleus_frac"),
            head_dose_u=setup.head_dose_u,
        )
    return courses


def calf_girth_daily_cm(
    protocol: Protocol, params: SampledParams, *, n_days: int
) -> dict[Side, NDArray[np.float32]]:
    """Calf girth of every virtual patient on every day ``0 .. n_days - 1``.

    The memory-lean path for daily resolution: atrophy is reduced to the calf level chunk by
    chunk, never stored per head and day. Same model as `simulate_courses`.

    Returns
    -------
    dict of Side to ndarray, shape (n_days, n), float32
    """
    f32 = np.float32
    t_days = np.arange(float(n_days))
    setups = {side: _leg_setup(protocol, side, params) for side in protocol.legs}
    offsets = _head_offsets(setups)
    out: dict[Side, NDArray[np.float32]] = {}
    # Per leg: area lost per unit atrophy of each dosed head at the calf level, per patient,
    # split into gastrocnemius heads (compensated) and soleus (not).
    weights: dict[Side, tuple[NDArray[np.float32], NDArray[np.float32], float]] = {}
    gm_area = (params.get("gm_size_ratio") * params.get("study_ratio")).astype(f32)
    for side, setup in setups.items():
        anatomy = setup.anatomy
        ci = anatomy.calf_level_index
        out[side] = np.full((n_days, params.n), anatomy.girth_cm[ci], dtype=f32)
        gm = np.zeros((len(setup.dosed), params.n), dtype=f32)
        sol = np.zeros((len(setup.dosed), params.n), dtype=f32)
        for j, h in enumerate(setup.dosed):
            area = f32(anatomy.muscle_area_cm2(h)[ci])
            if h in GM_HEADS:
                gm[j] = area * gm_area
            else:
                sol[j] = area
        weights[side] = (gm, sol, float(anatomy.total_area_cm2[ci]))
    if not any(s.dosed for s in setups.values()):
        return out
    first_day = protocol.sessions[0].day
    kappa = params.get("kappa_frac").astype(f32)
    neg_inv_comp = (-1.0 / params.get("tau_comp_days")).astype(f32)
    # Integrate on a grid that is daily only after sessions, then interpolate the area loss
    # linearly to every day (every time constant outside the onset is weeks or longer).
    grid = integration_grid_days(np.array([s.day for s in protocol.sessions]), float(n_days - 1))
    losses = {side: np.zeros((grid.size, params.n), dtype=f32) for side in setups}
    for i0, chunk in _atrophy_chunks(setups, protocol, grid, params):
        m = chunk.shape[0]
        since = np.maximum(grid[i0 : i0 + m] - first_day, 0.0).astype(f32)[:, None]
        # kept = 1 - kappa (1 - exp(-t/tau_comp)) (exp, not the slower expm1: see kinetics)
        kept = np.exp(since * neg_inv_comp)
        kept -= f32(1.0)
        kept *= kappa
        kept += f32(1.0)
        for side, setup in setups.items():
            if not setup.dosed:
                continue
            gm, sol, _ = weights[side]
            heads = chunk[:, offsets[side] : offsets[side] + len(setup.dosed)]
            loss = losses[side][i0 : i0 + m]
            np.einsum("thn,hn->tn", heads, gm, out=loss)
            loss *= kept
            loss += np.einsum("thn,hn->tn", heads, sol)
    upper = np.clip(np.searchsorted(grid, t_days, side="left"), 1, grid.size - 1)
    frac = ((t_days - grid[upper - 1]) / (grid[upper] - grid[upper - 1])).astype(f32)[:, None]
    four_pi = f32(4.0 * np.pi)
    for side, setup in setups.items():
        if not setup.dosed:
            continue
        _, _, area0 = weights[side]
        loss_grid = losses[side]
        daily = loss_grid[upper - 1] * (f32(1.0) - frac)
        daily += loss_grid[upper] * frac
        np.subtract(f32(area0), daily, out=daily)
        daily *= four_pi
        np.sqrt(daily, out=out[side])
    return out


def _interpolate(values: FloatArray, t_grid: FloatArray, days: FloatArray) -> FloatArray:
    """Linear interpolation of ``values[..., t]`` from ``t_grid`` to ``days`` (clamped).

    Days that are grid points (the usual case: the grid holds every reported whole day) are
    taken as they are, without arithmetic.
    """
    idx = np.searchsorted(t_grid, days, side="right") - 1
    idx = np.clip(idx, 0, t_grid.size - 2) if t_grid.size > 1 else np.zeros_like(idx)
    if t_grid.size == 1:
        return values[..., idx]
    w = (days - t_grid[idx]) / (t_grid[idx + 1] - t_grid[idx])
    if not w.any():
        return np.asarray(values[..., idx], dtype=np.float64)
    return np.asarray(values[..., idx] * (1 - w) + values[..., idx + 1] * w, dtype=np.float64)


@functools.lru_cache(maxsize=32)
def _shipped_population(n_samples: int, seed: int, *, has_ultrasound: bool) -> SampledParams:
    """Return the virtual patients of a seed under the shipped evidence (drawn once per process).

    They depend on nothing about the person, so every prediction with the same seed and
    sample count uses the same population (as it would drawing anew); the arrays are
    read-only. A served API answers most requests with the default seed.
    """
    params = sample_params(
        population_prior(load_evidence()),
        n_samples,
        np.random.default_rng(seed),
        has_ultrasound=has_ultrasound,
    )
    for values in params.values.values():
        values.setflags(write=False)
    return params


def predict(
    protocol: Protocol,
    *,
    n_samples: int = 4000,
    rng: np.random.Generator | int | None = None,
    prior_toxin: tuple[RecentToxin, ...] = (),
    min_interval_days: float | None = None,
    include_profile: bool = True,
    evidence: EvidenceBase | None = None,
) -> Prediction:
    """Predict girth and muscle-volume bands for every leg of ``protocol``.

    Parameters
    ----------
    protocol : Protocol
        Patient, legs, sessions and the days to report.
    n_samples : int
        Number of virtual patients in the Monte Carlo (100 to 200,000).
    rng : numpy.random.Generator, int or None
        Seed or generator; the same seed gives the same output.
    prior_toxin : tuple of RecentToxin
        Toxin received elsewhere (counted against the dose ceiling).
    min_interval_days : float, optional
        A recorded override of the 12-week minimum interval (the planner validates it).
    include_profile : bool
        Also summarise the girth at every level (for 3D views); costs most of the time.
    evidence : EvidenceBase, optional
        Evidence to use instead of the shipped data.

    Returns
    -------
    Prediction

    Raises
    ------
    SafetyLimitError
        If the protocol breaks the dose ceiling or the minimum interval.
    OutsideEvidenceError
        If a leg's dose exceeds the studied doses and extrapolation was not allowed.

    Examples
    --------
    >>> from calfsim.domain import LegDose, LegMeasurements, Patient, Session, ToxinProduct
    >>> protocol = Protocol(
    ...     patient=Patient(),
    ...     legs={Side.LEFT: LegMeasurements(calf_girth_cm=36.0)},
    ...     sessions=(Session(day=0, product=ToxinProduct.ONABOTULINUMTOXINA,
    ...                       doses_u={Side.LEFT: LegDose(total_u=100)}),),
    ...     days=(0, 84))
    >>> band = predict(protocol, n_samples=500, rng=1).legs[Side.LEFT].calf_girth_change_cm
    >>> bool(band.p10[1] < band.median[1] < band.p90[1] < 0)
    True
    """
    if (
        isinstance(n_samples, bool)
        or not isinstance(n_samples, int)
        or not (100 <= n_samples <= MAX_SAMPLES)
    ):
        raise InvalidInputError(
            f"samples must be an integer in [100, {MAX_SAMPLES}]; got {n_samples!r}",
            field="samples",
        )
    ev = load_evidence() if evidence is None else evidence
    notes = _check_protocol(protocol, ev, prior_toxin, min_interval_days)
    seed = rng if isinstance(rng, int) and not isinstance(rng, bool) else None
    has_ultrasound = all(leg.gm_thickness_mm is not None for leg in protocol.legs.values())
    if evidence is None and seed is not None and n_samples <= MAX_CACHED_POPULATION:
        params = _shipped_population(n_samples, seed, has_ultrasound=has_ultrasound)
    else:
        generator = np.random.default_rng(rng)
        params = sample_params(
            population_prior(ev), n_samples, generator, has_ultrasound=has_ultrasound
        )
    days = np.asarray(protocol.days, dtype=np.float64)
    # Integrate on the session-adaptive grid plus the whole days around each reported day, and
    # keep only the latter.
    around = np.unique(np.concatenate([np.floor(days), np.ceil(days)]))
    session_days = np.array([s.day for s in protocol.sessions], dtype=np.float64)
    grid = integration_grid_days(
        session_days, float(around.max()), coarse_step_days=_PREDICT_COARSE_STEP_DAYS
    )
    t_grid = np.union1d(grid, around)
    keep = np.searchsorted(t_grid, around).astype(np.intp)
    courses = simulate_courses(protocol, t_grid, params, keep_index=keep)
    legs: dict[Side, LegPrediction] = {}
    for side, course in courses.items():
        legs[side] = _summarise(course, days, include_profile=include_profile)
    return Prediction(
        model_version=MODEL_VERSION,
        samples=n_samples,
        seed=seed,
        legs=legs,
        tape_error_cm=ev.number("safety.tape_error_sd_cm"),
        notes=tuple(notes),
    )


def _summarise(course: LegCourse, days: FloatArray, *, include_profile: bool) -> LegPrediction:
    anatomy = course.anatomy
    t_grid = course.t_days
    ci = anatomy.calf_level_index
    # Area change at the calf level on the grid, then interpolated to the reported days.
    change_grid = course.area_change_cm2(ci, slice(None))[:, :, 0]
    # One interpolation and one percentile call for the girth and every head (each call has a
    # fixed cost that dominates at API sample sizes): rows 0 = area change, then girth,
    # 1.. = heads, each (n_samples, n_days).
    stacked = _interpolate(
        np.stack([change_grid, *(course.head_volume_change_frac(h) for h in HEADS)]),
        t_grid,
        days,
    )
    area0 = float(anatomy.total_area_cm2[ci])
    stacked[0] = girth_from_area_cm(area0 + stacked[0])
    baseline = float(anatomy.girth_cm[ci])
    bands = Band.stack_from_samples(stacked, axis=1)
    girth_band, head_bands = bands[0], bands[1:]
    profile: Band | None = None
    if include_profile:
        i = np.clip(np.searchsorted(t_grid, days), 0, t_grid.size - 1).astype(np.intp)
        # Profile at the nearest kept grid time (reported days are normally whole days).
        area_change = course.area_change_cm2(slice(None), i)  # (n_samples, n_days, n_levels)
        sections = anatomy.total_area_cm2[None, None, :] + area_change
        profile = Band.from_samples(girth_from_area_cm(sections))
    return LegPrediction(
        side=anatomy.side,
        days=days,
        baseline_calf_girth_cm=baseline,
        calf_level_cm=float(anatomy.calf_level_cm),
        calf_girth_cm=girth_band,
        # Percentiles commute with subtracting a constant.
        calf_girth_change_cm=Band(
            p10=girth_band.p10 - baseline,
            median=girth_band.median - baseline,
            p90=girth_band.p90 - baseline,
        ),
        head_volume_change_frac=dict(zip(HEADS, head_bands, strict=True)),
        head_volume_cm3={h: float(anatomy.volume_cm3(h)) for h in HEADS},
        head_dose_u=course.head_dose_u,
        levels_cm=anatomy.levels_cm,
        girth_profile_cm=profile,
    )

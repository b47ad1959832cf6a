"""Population distribution of the response-model parameters, built from the evidence data.

Each parameter has a central value and a plausible range in ``response.toml``. The range is read
as the 5th-95th percentile of a *split log-normal* distribution around the central value: a
log-normal whose spread below the centre is set by ``low`` and above it by ``high``. A range
that is one-sided (``low == central``) gives a distribution that never goes below the centre.
Between-patient variability acts on the dose sensitivity; between-study variability on the
gastrocnemius area that shows in the tape girth (log-normal multipliers).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from calfsim.evidence import EvidenceBase
from calfsim.units import DAYS_PER_WEEK

__all__ = [
    "MODEL_VERSION",
    "PARAMETER_KEYS",
    "PopulationPrior",
    "ResponseParams",
    "SampledParams",
    "population_prior",
    "sample_params",
]

#: Bumped whenever equations or calibrated values change, so that stored predictions can be
#: reproduced with the model that made them.
MODEL_VERSION = "calfsim-pd-1.1"

#: z-score of the 95th percentile of a standard normal: ranges are read as 5th-95th percentiles.
_Z95 = 1.6448536269514722

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseParams:
    """One set of response-model parameters (times in days).

    Attributes
    ----------
    tau_on_days : float
        Time constant of the onset of the block.
    tau_off_days : float
        Time constant of block recovery after the first session.
    repeat_slowing_ratio : float
        Factor by which block recovery slows with each further session (``m``).
    tau_atr_days : float
        Time constant of atrophy of blocked fibres.
    tau_reg_days : float
        Time constant of regrowth of reinnervated fibres.
    a_max_frac : float
        Maximal cross-section loss of a fully and permanently blocked head.
    ed50_u_per_cm3 : float
        Dose density (onabotulinumtoxinA-equivalent U per cm³ of muscle) blocking half the fibres.
    hill_ratio : float
        Hill exponent of the dose-block curve.
    kappa_frac : float
        Long-term fraction of the gastrocnemius loss offset by soleus and fat thickening.
    tau_comp_days : float
        Time constant with which the compensation builds up.
    comp_soleus_frac : float
        Part of the compensation that is soleus (the rest is subcutaneous fat).
    sensitivity_ratio : float
        Individual multiplier on the dose density (between-patient variability; 1 = typical).
    gm_size_ratio : float
        Multiplier on the gastrocnemius cross-sections of the anatomy model (its uncertainty);
        a larger head has both a lower dose density and a larger area to lose.
    study_ratio : float
        Between-study multiplier on the gastrocnemius area that shows in the tape girth
        (patient selection for hypertrophy, tape protocol); it does not change the dose
        density. 1 = typical study.
    abo_per_ona_ratio : float
        AbobotulinumtoxinA units equivalent to one onabotulinumtoxinA unit.
    pra_per_ona_ratio, leti_per_ona_ratio, inco_per_ona_ratio : float
        Conversion ratios of the other products.
    """

    tau_on_days: float
    tau_off_days: float
    repeat_slowing_ratio: float
    tau_atr_days: float
    tau_reg_days: float
    a_max_frac: float
    ed50_u_per_cm3: float
    hill_ratio: float
    kappa_frac: float
    tau_comp_days: float
    comp_soleus_frac: float
    sensitivity_ratio: float = 1.0
    gm_size_ratio: float = 1.0
    study_ratio: float = 1.0
    abo_per_ona_ratio: float = 2.75
    pra_per_ona_ratio: float = 1.0
    leti_per_ona_ratio: float = 1.0
    inco_per_ona_ratio: float = 1.0


#: Evidence key of each parameter (values in weeks are converted to days).
PARAMETER_KEYS: dict[str, str] = {
    "tau_on_days": "response.tau_on_weeks",
    "tau_off_days": "response.tau_off_weeks",
    "repeat_slowing_ratio": "response.repeat_slowing_ratio",
    "tau_atr_days": "response.tau_atr_weeks",
    "tau_reg_days": "response.tau_reg_weeks",
    "a_max_frac": "response.a_max_frac",
    "ed50_u_per_cm3": "response.ed50_u_per_cm3",
    "hill_ratio": "response.hill_ratio",
    "kappa_frac": "response.kappa_frac",
    "tau_comp_days": "response.tau_comp_weeks",
    "comp_soleus_frac": "response.comp_soleus_frac",
    "abo_per_ona_ratio": "products.abo_per_ona_ratio",
    "pra_per_ona_ratio": "products.pra_per_ona_ratio",
    "leti_per_ona_ratio": "products.leti_per_ona_ratio",
    "inco_per_ona_ratio": "products.inco_per_ona_ratio",
}

#: Hard physical limits applied after sampling (a fraction cannot leave [0, 1]).
_CLIP: dict[str, tuple[float, float]] = {
    "a_max_frac": (0.0, 0.95),
    "kappa_frac": (0.0, 0.95),
    "comp_soleus_frac": (0.0, 1.0),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class PopulationPrior:
    """Central values and 5th-95th percentile ranges of every parameter, plus variability.

    Attributes
    ----------
    central, low, high : ResponseParams
        Central values and range ends (days for times).
    patient_sd_log : float
        Log-SD of the between-patient multiplier on dose sensitivity.
    study_sd_log : float
        Log-SD of the between-study multiplier on the girth-relevant gastrocnemius area.
    gm_size_sd_log : float
        Log-SD of the gastrocnemius size multiplier when no ultrasound thickness is given.
    gm_size_sd_log_ultrasound : float
        The same when the gastrocnemius thickness was measured.
    """

    central: ResponseParams
    low: ResponseParams
    high: ResponseParams
    patient_sd_log: float
    study_sd_log: float
    gm_size_sd_log: float
    gm_size_sd_log_ultrasound: float


def population_prior(ev: EvidenceBase) -> PopulationPrior:
    """Build the parameter distribution from the evidence data.

    Parameters
    ----------
    ev : EvidenceBase
        Loaded evidence (see `calfsim.evidence.load_evidence`).

    Returns
    -------
    PopulationPrior

    Examples
    --------
    >>> from calfsim.evidence import load_evidence
    >>> prior = population_prior(load_evidence())
    >>> round(prior.central.tau_off_days)
    42
    """
    central: dict[str, float] = {}
    low: dict[str, float] = {}
    high: dict[str, float] = {}
    for name, key in PARAMETER_KEYS.items():
        scale = DAYS_PER_WEEK if key.endswith("_weeks") else 1.0
        central[name] = ev.number(key) * scale
        lo, hi = ev.bounds(key)
        low[name], high[name] = lo * scale, hi * scale
    return PopulationPrior(
        central=ResponseParams(**central),
        low=ResponseParams(**low),
        high=ResponseParams(**high),
        patient_sd_log=ev.number("response.patient_sd_log_ratio"),
        study_sd_log=ev.number("response.study_sd_log_ratio"),
        gm_size_sd_log=ev.number("response.gm_size_sd_log_ratio"),
        gm_size_sd_log_ultrasound=ev.number("response.gm_size_sd_log_ultrasound_ratio"),
    )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SampledParams:
    """Monte Carlo draws: every field of `ResponseParams` as an array of shape (n,)."""

    n: int
    values: dict[str, FloatArray]

    def __getattr__(self, name: str) -> FloatArray:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def get(self, name: str) -> FloatArray:
        """Return the draws of parameter ``name``."""
        return self.values[name]


def _split_lognormal(z: FloatArray, central: float, low: float, high: float) -> FloatArray:
    if central <= 0:
        # Only log-normal parameters are positive; a zero centre cannot spread in log space.
        return np.full_like(z, central)
    sd_low = np.log(central / low) / _Z95 if low > 0 else 0.0
    sd_high = np.log(high / central) / _Z95
    return np.asarray(central * np.exp(np.where(z < 0, sd_low * z, sd_high * z)), np.float64)


def sample_params(
    prior: PopulationPrior,
    n: int,
    rng: np.random.Generator,
    *,
    has_ultrasound: bool = False,
    typical: bool = False,
) -> SampledParams:
    """Draw ``n`` parameter sets from the population distribution.

    Parameters
    ----------
    prior : PopulationPrior
    n : int
        Number of virtual patients.
    rng : numpy.random.Generator
        Source of randomness (seeded by the caller).
    has_ultrasound : bool
        Whether the gastrocnemius thickness was measured (narrows the anatomy uncertainty).
    typical : bool
        Return ``n`` copies of the central values (no variability) instead of random draws.

    Returns
    -------
    SampledParams
    """
    values: dict[str, FloatArray] = {}
    for f in fields(ResponseParams):
        name = f.name
        c = float(getattr(prior.central, name))
        if typical or name in ("sensitivity_ratio", "gm_size_ratio", "study_ratio"):
            values[name] = np.full(n, c)
            continue
        z = rng.standard_normal(n)
        lo, hi = float(getattr(prior.low, name)), float(getattr(prior.high, name))
        if name in ("kappa_frac", "comp_soleus_frac"):
            # Fractions that may be 0: split *normal* around the centre.
            sd_low, sd_high = (c - lo) / _Z95, (hi - c) / _Z95
            draw = c + np.where(z < 0, sd_low * z, sd_high * z)
        else:
            draw = _split_lognormal(z, c, lo, hi)
        if name in _CLIP:
            draw = np.clip(draw, *_CLIP[name])
        values[name] = draw
    if not typical:
        values["sensitivity_ratio"] = np.exp(prior.patient_sd_log * rng.standard_normal(n))
        size_sd = prior.gm_size_sd_log_ultrasound if has_ultrasound else prior.gm_size_sd_log
        values["gm_size_ratio"] = np.exp(size_sd * rng.standard_normal(n))
        values["study_ratio"] = np.exp(prior.study_sd_log * rng.standard_normal(n))
    return SampledParams(n=n, values=values)

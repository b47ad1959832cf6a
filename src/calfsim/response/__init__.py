"""Pharmacodynamics: dose → nerve block → muscle atrophy and recovery, with variability.

The equations are in `calfsim.response._kinetics` and ``docs/model.md``; parameter
distributions come from the evidence data (``response.toml``).
"""

from calfsim.response._kinetics import (
    block_amplitude_frac,
    integration_grid_days,
    iter_atrophy_frac,
    simulate_atrophy_frac,
)
from calfsim.response._prior import (
    MODEL_VERSION,
    PARAMETER_KEYS,
    PopulationPrior,
    ResponseParams,
    SampledParams,
    population_prior,
    sample_params,
)
from calfsim.response._products import (
    RATIO_PARAMETER,
    central_ona_equivalent_u,
    conservative_ona_equivalent_u,
    ona_equivalent_u,
)

__all__ = [
    "MODEL_VERSION",
    "PARAMETER_KEYS",
    "RATIO_PARAMETER",
    "PopulationPrior",
    "ResponseParams",
    "SampledParams",
    "block_amplitude_frac",
    "central_ona_equivalent_u",
    "conservative_ona_equivalent_u",
    "integration_grid_days",
    "iter_atrophy_frac",
    "ona_equivalent_u",
    "population_prior",
    "sample_params",
    "simulate_atrophy_frac",
]

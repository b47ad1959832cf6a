"""Treatment planning: screening, dose per head, injection sites, schedule, cost, alternatives.

Pure functions on domain objects and the anatomy; predictions of a plan's effect are composed
in `calfsim.simulation`.
"""

from calfsim.planner._alternatives import OPTION_KEYS, Option, Risk, compare_alternatives
from calfsim.planner._cost import CostEstimate, MoneyRange, Prices, estimate_cost
from calfsim.planner._dilution import Dilution, plan_dilution
from calfsim.planner._screening import (
    Reason,
    ScreeningAnswers,
    ScreeningResult,
    Verdict,
    screen,
)
from calfsim.planner._sites import (
    HeadRegion,
    InjectionSite,
    SafeZones,
    head_regions,
    plan_sites,
    safe_zones,
    site_in_region,
)

__all__ = [
    "OPTION_KEYS",
    "CostEstimate",
    "Dilution",
    "HeadRegion",
    "InjectionSite",
    "MoneyRange",
    "Option",
    "Prices",
    "Reason",
    "Risk",
    "SafeZones",
    "ScreeningAnswers",
    "ScreeningResult",
    "Verdict",
    "compare_alternatives",
    "estimate_cost",
    "head_regions",
    "plan_dilution",
    "plan_sites",
    "safe_zones",
    "screen",
    "site_in_region",
]

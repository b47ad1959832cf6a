"""Treatment planning: screening, dose per head, injection sites, schedule, cost, alternatives.

Pure functions on domain objects and the anatomy; predictions of a plan's effect are composed
in `calfsim.simulation`.
"""

__all__: list[str] = []

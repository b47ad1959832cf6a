"""Leg meshes from the anatomy model, their deformation over time, and girth on any mesh."""

__all__: list[str] = []

"""calfsim: an evidence-based simulator and planner for calf reduction by botulinum toxin.

The core (``domain``, ``evidence``, ``anatomy``, ``response``, ``simulation``) is pure Python on
numpy/scipy; files, plots and the command line live at the edge (``io``, ``render``, ``cli``).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("calfsim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = ["__version__"]

"""Conversion of product units to onabotulinumtoxinA-equivalent units.

Units of different products are not interchangeable (product labels); the conversion ratios are
clinical assumptions with citations (evidence ``products.*``), and for abobotulinumtoxinA the
ratio is uncertain (2.5-3.0), so it is drawn per virtual patient.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from calfsim.domain import ToxinProduct
from calfsim.evidence import EvidenceBase

__all__ = [
    "RATIO_PARAMETER",
    "central_ona_equivalent_u",
    "conservative_ona_equivalent_u",
    "ona_equivalent_u",
]

#: Name of the sampled parameter holding each product's units per onabotulinumtoxinA unit.
RATIO_PARAMETER: dict[ToxinProduct, str | None] = {
    ToxinProduct.ONABOTULINUMTOXINA: None,
    ToxinProduct.INCOBOTULINUMTOXINA: "inco_per_ona_ratio",
    ToxinProduct.PRABOTULINUMTOXINA: "pra_per_ona_ratio",
    ToxinProduct.ABOBOTULINUMTOXINA: "abo_per_ona_ratio",
    ToxinProduct.LETIBOTULINUMTOXINA: "leti_per_ona_ratio",
}

_EVIDENCE_KEY: dict[ToxinProduct, str] = {
    ToxinProduct.ONABOTULINUMTOXINA: "products.ona_per_ona_ratio",
    ToxinProduct.INCOBOTULINUMTOXINA: "products.inco_per_ona_ratio",
    ToxinProduct.PRABOTULINUMTOXINA: "products.pra_per_ona_ratio",
    ToxinProduct.ABOBOTULINUMTOXINA: "products.abo_per_ona_ratio",
    ToxinProduct.LETIBOTULINUMTOXINA: "products.leti_per_ona_ratio",
}


def ona_equivalent_u(
    amount_u: float, product: ToxinProduct, ratio: NDArray[np.float64] | float
) -> NDArray[np.float64]:
    """Convert product units to onabotulinumtoxinA-equivalent units.

    Parameters
    ----------
    amount_u : float
        Units of ``product``.
    product : ToxinProduct
    ratio : ndarray or float
        Units of ``product`` per onabotulinumtoxinA unit (ignored for onabotulinumtoxinA).

    Examples
    --------
    >>> float(ona_equivalent_u(275.0, ToxinProduct.ABOBOTULINUMTOXINA, 2.75))
    100.0
    """
    if RATIO_PARAMETER[product] is None:
        return np.asarray(amount_u, dtype=np.float64)
    return np.asarray(amount_u / np.asarray(ratio, dtype=np.float64), dtype=np.float64)


def conservative_ona_equivalent_u(
    amount_u: float, product: ToxinProduct, ev: EvidenceBase
) -> float:
    """Convert with the *lowest* plausible ratio, giving the most onabotulinumtoxinA-equivalent.

    Used for safety ceilings, where over-counting is the safe error.

    Examples
    --------
    >>> from calfsim.evidence import load_evidence
    >>> conservative_ona_equivalent_u(250.0, ToxinProduct.ABOBOTULINUMTOXINA, load_evidence())
    100.0
    """
    low, _ = ev.bounds(_EVIDENCE_KEY[product])
    return float(amount_u / low)


def central_ona_equivalent_u(amount_u: float, product: ToxinProduct, ev: EvidenceBase) -> float:
    """Convert with the central ratio of the evidence (for reporting and evidence-range checks).

    Examples
    --------
    >>> from calfsim.evidence import load_evidence
    >>> central_ona_equivalent_u(275.0, ToxinProduct.ABOBOTULINUMTOXINA, load_evidence())
    100.0
    """
    return float(amount_u / ev.number(_EVIDENCE_KEY[product]))

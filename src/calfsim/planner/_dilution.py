"""Reconstitution of the toxin for one session: vials, saline, concentration and syringes.

The calf consensus reconstitutes a 100 U onabotulinumtoxinA vial with 2 mL of saline (50 U/mL,
Kim 2013; evidence ``products.consensus_concentration_u_per_ml``). For another product the
default concentration carries the same onabotulinumtoxinA-equivalent potency per millilitre
(50 U/mL times the product's cited conversion ratio), so that the volume per point matches the
consensus. Product units are never mixed: a conversion ratio is a clinical assumption with a
citation (``products.*_per_ona_ratio``), used here only to scale defaults and limits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from calfsim.domain import MAX_DOSE_PER_LEG_U, ToxinProduct
from calfsim.errors import InvalidInputError
from calfsim.evidence import EvidenceBase, load_evidence

__all__ = ["Dilution", "plan_dilution"]

#: Evidence key of each product's units per onabotulinumtoxinA unit (products.toml).
RATIO_KEY: dict[ToxinProduct, str] = {
    ToxinProduct.ONABOTULINUMTOXINA: "products.ona_per_ona_ratio",
    ToxinProduct.INCOBOTULINUMTOXINA: "products.inco_per_ona_ratio",
    ToxinProduct.PRABOTULINUMTOXINA: "products.pra_per_ona_ratio",
    ToxinProduct.ABOBOTULINUMTOXINA: "products.abo_per_ona_ratio",
    ToxinProduct.LETIBOTULINUMTOXINA: "products.leti_per_ona_ratio",
}

#: Evidence key of the vial sizes of the products that have them in the evidence.
_VIAL_KEY: dict[ToxinProduct, str] = {
    ToxinProduct.ONABOTULINUMTOXINA: "products.vial_sizes_u",
    ToxinProduct.ABOBOTULINUMTOXINA: "injection.abo_vial_sizes_u",
}

#: Input sanity bounds on a concentration, not clinical limits: the label and consensus
#: dilutions give 25-50 U/mL for onabotulinumtoxinA and abobotulinumtoxinA is reconstituted
#: up to ~200 U/mL; values far outside this are typing errors (mL vs 0.1 mL, U vs U/mL).
CONCENTRATION_RANGE_U_PER_ML = (1.0, 500.0)

#: A session treats two legs at most, each bounded by the domain's input sanity bound.
_MAX_SESSION_U = 2.0 * MAX_DOSE_PER_LEG_U


@dataclass(frozen=True, slots=True, kw_only=True)
class Dilution:
    """How to prepare the toxin for one session.

    Attributes
    ----------
    product : ToxinProduct
    total_units_u : float
        Units to inject in the session (both legs), in units of ``product``.
    vial_u : float
        Size of each vial used (one size per session).
    n_vials : int
        Number of vials to open; ``n_vials * vial_u >= total_units_u``.
    diluent_ml : float
        Preservative-free saline added to each vial.
    concentration_u_per_ml : float
        Units per mL after reconstitution.
    reconstituted_ml : float
        Volume of all opened vials after reconstitution (``n_vials * diluent_ml``).
    total_volume_ml : float
        Volume to inject (``total_units_u / concentration_u_per_ml``).
    syringe_ml : float
        Capacity of each syringe.
    syringes : int
        Syringes needed to hold ``total_volume_ml``.
    units_discarded_u : float
        Units opened but not injected (``n_vials * vial_u - total_units_u``).
    use_within_days : float
        Use the reconstituted toxin within this time, refrigerated.
    notes : tuple of str
        Plain-language preparation notes and the assumptions made.
    """

    product: ToxinProduct
    total_units_u: float
    vial_u: float
    n_vials: int
    diluent_ml: float
    concentration_u_per_ml: float
    reconstituted_ml: float
    total_volume_ml: float
    syringe_ml: float
    syringes: int
    units_discarded_u: float
    use_within_days: float
    notes: tuple[str, ...] = field(default_factory=tuple)


def units_per_ona_ratio(product: ToxinProduct, ev: EvidenceBase) -> tuple[float, float, float]:
    """Return ``(low, central, high)`` units of ``product`` per onabotulinumtoxinA unit.

    Examples
    --------
    >>> units_per_ona_ratio(ToxinProduct.ABOBOTULINUMTOXINA, load_evidence())
    (2.5, 2.75, 3.0)
    """
    key = RATIO_KEY[product]
    low, high = ev.bounds(key)
    return (low, ev.number(key), high)


def check_product(product: object) -> ToxinProduct:
    """Return ``product`` if it is a `ToxinProduct`; raise a message listing the names."""
    if not isinstance(product, ToxinProduct):
        raise InvalidInputError(
            f"product must be one of {ToxinProduct.accepted_names()}; got {product!r}",
            field="product",
        )
    return product


def check_number(name: str, value: object, low: float, high: float, unit: str) -> float:
    """Return ``value`` as a float if it is a finite number in ``(low, high]``; else raise."""
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and low < value <= high
    ):
        return float(value)
    raise InvalidInputError(
        f"{name} must be a number in ({low:g}, {high:g}] {unit}; got {value!r}", field=name
    )


def default_concentration_u_per_ml(product: ToxinProduct, ev: EvidenceBase) -> float:
    """Return the consensus 50 U/mL scaled to the same onabotulinumtoxinA-equivalent potency.

    Examples
    --------
    >>> default_concentration_u_per_ml(ToxinProduct.ONABOTULINUMTOXINA, load_evidence())
    50.0
    >>> default_concentration_u_per_ml(ToxinProduct.ABOBOTULINUMTOXINA, load_evidence())
    137.5
    """
    _, central, _ = units_per_ona_ratio(product, ev)
    return ev.number("products.consensus_concentration_u_per_ml") * central


def plan_dilution(
    total_units_u: float,
    product: ToxinProduct,
    *,
    concentration_u_per_ml: float | None = None,
    vial_sizes_u: Sequence[float] | None = None,
    ev: EvidenceBase | None = None,
) -> Dilution:
    """Choose vials, saline and syringes for one session.

    One vial size is used per session. Among the sizes available, the choice wastes the fewest
    units, and among equally wasteful sizes it opens the fewest vials (a 100 U dose takes one
    100 U vial, not half of a 200 U vial; 110 U takes three 50 U vials, discarding 40 U, rather
    than one 200 U vial discarding 90 U). Each vial gets ``vial_u / concentration`` mL of saline.

    Parameters
    ----------
    total_units_u : float
        Units of ``product`` to inject in the session, both legs; in (0, 3000].
    product : ToxinProduct
    concentration_u_per_ml : float, optional
        Units per mL after reconstitution, in (1, 500]. Default: the calf consensus 50 U/mL
        (100 U in 2 mL) for onabotulinumtoxinA; for other products the same
        onabotulinumtoxinA-equivalent potency (50 U/mL x the product's central conversion ratio).
    vial_sizes_u : sequence of float, optional
        Vial sizes to choose from (e.g. only the cosmetic 50 and 100 U vials). Default: the
        product's vial sizes in the evidence (``products.vial_sizes_u`` for onabotulinumtoxinA,
        ``injection.abo_vial_sizes_u`` for abobotulinumtoxinA); other products have none in the
        evidence, so the onabotulinumtoxinA sizes are used and a note says so.
    ev : EvidenceBase, optional
        Defaults to the shipped evidence.

    Returns
    -------
    Dilution

    Raises
    ------
    InvalidInputError
        If ``total_units_u``, ``concentration_u_per_ml`` or a vial size is not a positive
        finite number in its range, or ``product`` is not a `ToxinProduct`.

    References
    ----------
    Kim HS et al. Consensus recommendations on the aesthetic usage of botulinum toxin type A in
    Asians. Dermatol Surg 2013 (100 U in 2 mL for the calf). Allergan, BOTOX ordering and storage
    instructions (vial sizes; use within 24 h of reconstitution).

    Examples
    --------
    >>> d = plan_dilution(110.0, ToxinProduct.ONABOTULINUMTOXINA)
    >>> d.n_vials, d.vial_u, d.diluent_ml, d.total_volume_ml, d.syringes, d.units_discarded_u
    (3, 50.0, 1.0, 2.2, 3, 40.0)
    >>> plan_dilution(200.0, ToxinProduct.ONABOTULINUMTOXINA).vial_u
    200.0
    """
    evidence = load_evidence() if ev is None else ev
    product = check_product(product)
    total_u = check_number("total_units_u", total_units_u, 0.0, _MAX_SESSION_U, "U")
    low_c, high_c = CONCENTRATION_RANGE_U_PER_ML
    if concentration_u_per_ml is None:
        concentration = default_concentration_u_per_ml(product, evidence)
    else:
        concentration = check_number(
            "concentration_u_per_ml", concentration_u_per_ml, low_c, high_c, "U/mL"
        )
    notes: list[str] = []
    if vial_sizes_u is None:
        key = _VIAL_KEY.get(product, _VIAL_KEY[ToxinProduct.ONABOTULINUMTOXINA])
        sizes = evidence.series(key)
        if product not in _VIAL_KEY:
            notes.append(
                f"The evidence gives vial sizes for onabotulinumtoxinA and abobotulinumtoxinA "
                f"only; the onabotulinumtoxinA sizes ({_join(sizes)} U) were used for "
                f"{product.value}. Check the product's own vial sizes."
            )
        elif product is ToxinProduct.ABOBOTULINUMTOXINA:
            notes.append(
                "AbobotulinumtoxinA vial sizes (300 and 500 U) come from the label and were not "
                "verified in the evidence report."
            )
    else:
        sizes = tuple(
            check_number("vial_sizes_u", v, 0.0, _MAX_SESSION_U, "U") for v in vial_sizes_u
        )
        if not sizes:
            raise InvalidInputError("vial_sizes_u must not be empty", field="vial_sizes_u")
    vial_u, n_vials = min(
        ((v, _vials_needed(total_u, v)) for v in sorted(set(sizes))),
        key=lambda vn: (vn[0] * vn[1] - total_u, vn[1]),
    )
    diluent_ml = vial_u / concentration
    volume_ml = total_u / concentration
    syringe_ml = evidence.number("injection.syringe_ml")
    # A volume a hair above a whole syringe (float round-off of units / concentration) still
    # fits: 1e-9 mL is far below what a syringe can measure.
    syringes = max(1, math.ceil(volume_ml / syringe_ml - 1e-9))
    discarded_u = max(n_vials * vial_u - total_u, 0.0)
    use_days = evidence.number("products.reconstituted_use_within_days")
    consensus = evidence.number("products.consensus_concentration_u_per_ml")
    notes.insert(
        0,
        f"Reconstitute each {vial_u:g} U vial with {diluent_ml:.2f} mL of preservative-free "
        f"saline: {concentration:g} U/mL ({10.0 / concentration:.2f} mL per 10 U).",
    )
    if product is ToxinProduct.ONABOTULINUMTOXINA and concentration == consensus:
        notes.append("This is the calf consensus dilution: 100 U in 2 mL (Kim 2013).")
    elif concentration_u_per_ml is None:
        notes.append(
            f"{concentration:g} U/mL of {product.value} carries the potency of the calf "
            f"consensus {consensus:g} U/mL of onabotulinumtoxinA (cited conversion ratio); "
            "units of different products are not interchangeable."
        )
    notes.append(f"Use within {24 * use_days:g} h of reconstitution; keep refrigerated (2-8 °C).")
    notes.append(
        f"{syringes} syringe(s) of {syringe_ml:g} mL for {volume_ml:.2f} mL (1 mL syringes are "
        "an assumption; the sources name none)."
    )
    if discarded_u > 0:
        notes.append(f"{discarded_u:g} U of the opened vials will be left over and discarded.")
    return Dilution(
        product=product,
        total_units_u=total_u,
        vial_u=float(vial_u),
        n_vials=int(n_vials),
        diluent_ml=diluent_ml,
        concentration_u_per_ml=concentration,
        reconstituted_ml=n_vials * diluent_ml,
        total_volume_ml=volume_ml,
        syringe_ml=syringe_ml,
        syringes=int(syringes),
        units_discarded_u=discarded_u,
        use_within_days=use_days,
        notes=tuple(notes),
    )


def _vials_needed(total_u: float, vial_u: float) -> int:
    """Fewest vials of ``vial_u`` whose units cover ``total_u`` (exactly, no tolerance)."""
    n = max(1, math.ceil(total_u / vial_u))
    while n * vial_u < total_u:
        n += 1
    return n


def _join(values: Sequence[float]) -> str:
    return ", ".join(f"{v:g}" for v in values)

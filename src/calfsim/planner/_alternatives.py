"""Botox and its alternatives side by side, to the standard of a patient decision aid.

Following IPDAS (the International Patient Decision Aid Standards), every option is described
with the same fields in the same detail: expected girth change with its range, permanence,
recovery, main risks with their frequency as "N in 1,000" where a study counted them (and "no
frequency reported" where none did), cost over two years, sources with their year and how
strong the evidence is. Calf use of botulinum toxin is off-label, and the Botox option says so.

Where a series reports the change as a fraction of the starting girth (resection,
radiofrequency ablation), the change is scaled to the person's own calf girth; where it reports
centimetres only (selective neurectomy), the centimetres are shown as reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from calfsim.domain import MEASUREMENT_LIMITS
from calfsim.errors import InvalidInputError
from calfsim.evidence import EvidenceBase, load_evidence
from calfsim.planner._cost import MoneyRange
from calfsim.planner._screening import cite_items, join_words

__all__ = ["OPTION_KEYS", "Option", "Risk", "compare_alternatives"]

#: Option keys in the order `compare_alternatives` returns them.
OPTION_KEYS = (
    "botox",
    "selective_neurectomy",
    "surgical_resection",
    "radiofrequency_ablation",
    "liposuction",
    "no_treatment",
)
#: The band of a prediction is its 10th-90th percentile (docs/glossary.md, "band"); series
#: reported as mean ± SD are shown with the same percentiles, assuming a normal spread.
BAND_QUANTILE = 0.9
_PER = 1000.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Risk:
    """One risk of an option, with its frequency on a common denominator.

    Parameters
    ----------
    text : str
        The risk in plain words.
    per_1000 : float or None
        How many in 1,000 people it affected; None when no study counted it (``basis`` says
        so).
    basis : str
        Where the number comes from, e.g. ``"6 of 300 patients (Wang H et al. 2015)"``.

    Examples
    --------
    >>> Risk.from_count("Tiredness when walking", 6, 300, source="Wang H et al. 2015").per_1000
    20.0
    """

    text: str
    per_1000: float | None
    basis: str

    def __post_init__(self) -> None:
        for name in ("text", "basis"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name).strip():
                raise InvalidInputError(f"{name} must be non-empty text", field=name)
        if self.per_1000 is not None:
            value = self.per_1000
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or not 0 <= value <= _PER
            ):
                raise InvalidInputError(
                    f"per_1000 must be in [0, 1000] people or None; got {value!r}",
                    field="per_1000",
                )
            object.__setattr__(self, "per_1000", float(value))

    @classmethod
    def from_count(cls, text: str, n_events: int, n_patients: int, *, source: str) -> Risk:
        """Build a risk from a count: ``n_events`` of ``n_patients`` patients in ``source``.

        Raises
        ------
        InvalidInputError
            Unless ``0 <= n_events <= n_patients`` and ``n_patients > 0``.
        """
        if not 0 <= n_events <= n_patients or n_patients <= 0:
            raise InvalidInputError(
                f"need 0 <= n_events <= n_patients and n_patients > 0; got {n_events} of "
                f"{n_patients}",
                field="n_events",
            )
        return cls(
            text=text,
            per_1000=_PER * n_events / n_patients,
            basis=f"{n_events} of {n_patients} patients ({source})",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Option:
    """One treatment option, described with the same fields as every other.

    Attributes
    ----------
    key : str
        One of `OPTION_KEYS`.
    name : str
        Plain-words name.
    girth_change_cm : tuple of float or None
        (low, typical, high) change of the maximal calf girth, cm, low <= typical <= high
        (negative = slimmer, so ``low`` is the largest reduction); None when not known
        (``girth_note`` says why).
    girth_note : str
        Where the numbers come from and what the range means.
    permanence, recovery : str
    risks : tuple of Risk
        At least one; a risk without a counted frequency has ``per_1000=None``.
    cost_two_years : MoneyRange or None
        None when no trustworthy price exists (``cost_note`` says so).
    cost_note : str
    sources : tuple of str
        Short citations with their year.
    off_label : bool
        True for Botox in the calf (not an approved use).
    evidence_strength : str
        Plain words, e.g. "1 series of 300 patients".
    off_label_note : str
        The off-label statement (empty when ``off_label`` is False).
    """

    key: str
    name: str
    girth_change_cm: tuple[float, float, float] | None
    girth_note: str
    permanence: str
    recovery: str
    risks: tuple[Risk, ...]
    cost_two_years: MoneyRange | None
    cost_note: str
    sources: tuple[str, ...]
    off_label: bool
    evidence_strength: str
    off_label_note: str = ""


def _texts(ev: EvidenceBase, key: str) -> tuple[str, ...]:
    value = ev.item(key).value
    return tuple(str(v) for v in value) if isinstance(value, tuple) else (str(value),)


def _year(ev: EvidenceBase, key: str) -> str:
    year = ev.item(key).sources[0].year
    return str(year) if year else "year not recorded"


def _counted(ev: EvidenceBase, text: str, frac_key: str, n_key: str) -> Risk:
    """Build a risk from an evidence fraction and the series size (numerator recovered)."""
    n_patients = round(ev.number(n_key))
    n_events = round(ev.number(frac_key) * n_patients)
    return Risk.from_count(text, n_events, n_patients, source="; ".join(cite_items(ev, [frac_key])))


def _uncounted(ev: EvidenceBase, text: str, why: str, keys: list[str]) -> Risk:
    return Risk(text=text, per_1000=None, basis=f"{why} ({'; '.join(cite_items(ev, keys))})")


def _check_inputs(
    calf_girth_cm: float,
    botox_girth_change_cm: tuple[float, float, float],
    botox_cost_two_years: MoneyRange,
    botox_risks: tuple[Risk, ...],
) -> None:
    low, high, unit = MEASUREMENT_LIMITS["calf_girth_cm"]
    if (
        isinstance(calf_girth_cm, bool)
        or not isinstance(calf_girth_cm, int | float)
        or not math.isfinite(calf_girth_cm)
        or not low <= calf_girth_cm <= high
    ):
        raise InvalidInputError(
            f"calf_girth_cm must be in [{low:g}, {high:g}] {unit}; got {calf_girth_cm!r}",
            field="calf_girth_cm",
        )
    band = tuple(botox_girth_change_cm)
    if (
        len(band) != 3
        or not all(
            isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
            for x in band
        )
        or not band[0] <= band[1] <= band[2]
        or max(abs(x) for x in band) >= calf_girth_cm
    ):
        raise InvalidInputError(
            "botox_girth_change_cm must be 3 finite numbers (low, typical, high) in cm with "
            f"low <= typical <= high, each smaller in size than the calf; got "
            f"{botox_girth_change_cm!r}",
            field="botox_girth_change_cm",
        )
    if not isinstance(botox_cost_two_years, MoneyRange):
        raise InvalidInputError(
            f"botox_cost_two_years must be a MoneyRange; got {botox_cost_two_years!r}",
            field="botox_cost_two_years",
        )
    if not all(isinstance(r, Risk) for r in botox_risks):
        raise InvalidInputError(
            f"botox_risks must hold Risk values; got {botox_risks!r}", field="botox_risks"
        )


def _botox(
    ev: EvidenceBase,
    band_cm: tuple[float, float, float],
    cost: MoneyRange,
    risks: tuple[Risk, ...],
) -> Option:
    changes_cm = ev.series("studies.park2005_girth_change_cm")
    doses_u = ev.series("studies.park2005_dose_u")
    d_low, d_high = ev.bounds("procedure.duration_months")
    pause_low, pause_high = ev.bounds("procedure.intense_activity_pause_days")
    if not risks:
        risks = (
            _uncounted(
                ev,
                ev.text("safety.ae_reviews_and_clinics"),
                "frequency unknown: the small calf studies reported none",
                ["safety.ae_reviews_and_clinics", "safety.ae_prabotulinum_rct2019"],
            ),
            _uncounted(
                ev,
                "Common at the injection sites: " + ", ".join(_texts(ev, "procedure.side_effects")),
                "common; no frequency reported",
                ["procedure.side_effects"],
            ),
            _uncounted(
                ev,
                ev.text("safety.warning_distant_spread"),
                "label warning; no frequency reported for calf use",
                ["safety.warning_distant_spread"],
            ),
        )
    keys = [
        "studies.park2005_girth_change_cm",
        "studies.evidence_caveat",
        "procedure.duration_months",
        "procedure.recovery_days",
        "procedure.intense_activity_pause_days",
        "procedure.off_label_status",
        "safety.ae_reviews_and_clinics",
    ]
    return Option(
        key="botox",
        name="Botox injections (botulinum toxin into the calf muscle)",
        girth_change_cm=band_cm,
        girth_note=(
            "Predicted for your legs by calfsim's response model: the likely range across "
            "similar patients and studies. The calf studies report average changes of "
            f"{abs(max(changes_cm)):.1f} to {abs(min(changes_cm)):.1f} cm at "
            f"{min(doses_u):g}-{max(doses_u):g} U per calf (Park 2005)."
        ),
        permanence=(
            f"Temporary: the effect lasts about {d_low:g}-{d_high:g} months (typically "
            f"{ev.number('procedure.duration_months'):g}); maintenance sessions keep it."
        ),
        recovery=(
            f"No downtime ({ev.number('procedure.recovery_days'):g} days); avoid intense "
            f"exercise for {pause_low:g}-{pause_high:g} days."
        ),
        risks=risks,
        cost_two_years=cost,
        cost_note=(
            "From the cost estimate of your plan over two years (units × price per unit plus "
            "any session fee)."
        ),
        sources=cite_items(ev, keys),
        off_label=True,
        evidence_strength=(
            f"Small studies ({ev.number('studies.lee2004_n'):g} to "
            f"{ev.number('studies.fat_satisfaction2024_n'):g} patients each), mostly East "
            "Asian, read as abstracts; average changes differ several-fold between studies."
        ),
        off_label_note=ev.text("procedure.off_label_status"),
    )


def _neurectomy(ev: EvidenceBase) -> Option:
    mean_cm = ev.number("alternatives.selective_neurectomy_girth_change_cm")
    sd_cm = ev.number("alternatives.selective_neurectomy_girth_change_sd_cm")
    z = NormalDist().inv_cdf(BAND_QUANTILE)
    n = ev.number("alternatives.selective_neurectomy_n")
    wider_n = ev.number("alternatives.neurectomy_mg_soleus_n")
    pre = "alternatives.selective_neurectomy_"
    wider = "alternatives.neurectomy_mg_soleus_"
    risks = (
        _counted(
            ev,
            "Tiredness of the legs when walking (temporary)",
            pre + "walking_fatigue_frac",
            pre + "n",
        ),
        _counted(ev, "Darker scars (temporary)", pre + "scar_pigmentation_frac", pre + "n"),
        _counted(ev, "Calves left uneven (asymmetry)", pre + "asymmetry_frac", pre + "n"),
        _counted(
            ev,
            "Short-term disability after a wider nerve cut (medial head and half the soleus)",
            wider + "short_term_disability_frac",
            wider + "n",
        ),
        _counted(
            ev,
            "Unhappy with the result (same wider nerve-cut series)",
            wider + "dissatisfied_frac",
            wider + "n",
        ),
    )
    keys = [
        pre + "girth_change_cm",
        pre + "permanence",
        pre + "recovery",
        wider + "short_term_disability_frac",
    ]
    return Option(
        key="selective_neurectomy",
        name="Selective neurectomy (surgery cutting the nerve branches to the calf muscle)",
        girth_change_cm=(mean_cm - z * sd_cm, mean_cm, min(0.0, mean_cm + z * sd_cm)),
        girth_note=(
            f"Average {mean_cm:g} cm (spread {sd_cm:g} cm between patients) in {n:g} patients "
            f"(Wang 2015). The range is the 10th to 90th percentile, assuming a normal spread, "
            "in cm as reported: not scaled to your calf, because the study gives no starting "
            "girth."
        ),
        permanence=ev.text(pre + "permanence"),
        recovery=ev.text(pre + "recovery"),
        risks=risks,
        cost_two_years=None,
        cost_note=ev.text("alternatives.surgical_price_unavailable"),
        sources=cite_items(ev, keys),
        off_label=False,
        evidence_strength=(
            f"1 series of {n:g} patients ({_year(ev, pre + 'n')}); a wider nerve cut in 1 series "
            f"of {wider_n:g} patients ({_year(ev, wider + 'n')})."
        ),
    )


#: Resection series: (evidence prefix, plain name).
_RESECTION_SERIES = (
    ("alternatives.subtotal_resection_", "subtotal resection"),
    ("alternatives.endoscopic_resection_", "endoscope-assisted resection"),
    ("alternatives.resection_soleus_neurectomy_", "resection with a soleus nerve cut"),
)


def _resection(ev: EvidenceBase, calf_girth_cm: float) -> Option:
    lows: list[float] = []
    highs: list[float] = []
    weighted = 0.0
    n_total = 0.0
    sizes: list[str] = []
    for prefix, _ in _RESECTION_SERIES:
        frac = ev.number(prefix + "girth_change_frac")
        # The series' mean starting girth, from its mean change in cm and in fraction.
        baseline_cm = ev.number(prefix + "girth_change_cm") / frac
        low_cm, high_cm = ev.bounds(prefix + "girth_change_cm")
        lows.append(low_cm / baseline_cm)
        highs.append(high_cm / baseline_cm)
        n = ev.number(prefix + "n")
        weighted += n * frac
        n_total += n
        sizes.append(f"{n:g}")
    typical_frac = weighted / n_total
    low_frac, high_frac = min(lows), max(highs)
    years = [_year(ev, prefix + "n") for prefix, _ in _RESECTION_SERIES]
    risks = (
        _counted(
            ev,
            "Fluid collection under the skin (seroma)",
            "alternatives.subtotal_resection_seroma_frac",
            "alternatives.subtotal_resection_n",
        ),
        _counted(
            ev,
            "Late collection of blood (haematoma)",
            "alternatives.subtotal_resection_late_haematoma_frac",
            "alternatives.subtotal_resection_n",
        ),
        _counted(
            ev,
            "Foot drop (weak lifting of the foot) for months",
            "alternatives.subtotal_resection_foot_drop_frac",
            "alternatives.subtotal_resection_n",
        ),
        _counted(
            ev,
            "Scar problems",
            "alternatives.subtotal_resection_scar_problem_frac",
            "alternatives.subtotal_resection_n",
        ),
        _counted(
            ev,
            "Minor complications (endoscope-assisted resection)",
            "alternatives.endoscopic_resection_complication_frac",
            "alternatives.endoscopic_resection_n",
        ),
        _counted(
            ev,
            "Scar revision surgery (endoscope-assisted resection)",
            "alternatives.endoscopic_resection_scar_revision_frac",
            "alternatives.endoscopic_resection_n",
        ),
        _counted(
            ev,
            "Numbness from a stretched sural nerve (resection with a soleus nerve cut)",
            "alternatives.resection_soleus_neurectomy_sural_injury_frac",
            "alternatives.resection_soleus_neurectomy_n",
        ),
        _counted(
            ev,
            "Achilles tendon rupture (resection with a soleus nerve cut)",
            "alternatives.resection_soleus_neurectomy_achilles_rupture_frac",
            "alternatives.resection_soleus_neurectomy_n",
        ),
    )
    keys = [prefix + "girth_change_frac" for prefix, _ in _RESECTION_SERIES]
    keys += [
        "alternatives.subtotal_resection_permanence",
        "alternatives.subtotal_resection_recovery",
    ]
    names = ", ".join(name for _, name in _RESECTION_SERIES)
    return Option(
        key="surgical_resection",
        name="Surgical resection (removing part of the calf muscle)",
        girth_change_cm=(
            low_frac * calf_girth_cm,
            typical_frac * calf_girth_cm,
            high_frac * calf_girth_cm,
        ),
        girth_note=(
            f"Scaled to your calf ({calf_girth_cm:g} cm): on average {abs(typical_frac):.0%} "
            f"smaller, {abs(high_frac):.0%} to {abs(low_frac):.0%} across patients, from "
            f"{len(_RESECTION_SERIES)} series ({names}). The range is the smallest and "
            "largest change reported, not a percentile."
        ),
        permanence=ev.text("alternatives.subtotal_resection_permanence"),
        recovery=ev.text("alternatives.subtotal_resection_recovery"),
        risks=risks,
        cost_two_years=None,
        cost_note=ev.text("alternatives.surgical_price_unavailable"),
        sources=cite_items(ev, keys),
        off_label=False,
        evidence_strength=(
            f"{len(_RESECTION_SERIES)} series of {join_words(sizes)} patients "
            f"({min(years)}-{max(years)})."
        ),
    )


def _radiofrequency(ev: EvidenceBase, calf_girth_cm: float) -> Option:
    pre = "alternatives.radiofrequency_ablation_"
    frac = ev.number(pre + "girth_change_frac")
    change_cm = frac * calf_girth_cm
    n = ev.number(pre + "n")
    risks = (
        _uncounted(
            ev,
            ev.text(pre + "risks"),
            "a case series and a case report without the number treated, so no rate",
            [pre + "risks"],
        ),
    )
    keys = [pre + "girth_change_frac", pre + "permanence", pre + "recovery", pre + "risks"]
    return Option(
        key="radiofrequency_ablation",
        name="Radiofrequency ablation (heat destroys part of the calf muscle)",
        girth_change_cm=(change_cm, change_cm, change_cm),
        girth_note=(
            f"Scaled to your calf ({calf_girth_cm:g} cm): on average {abs(frac):.0%} smaller "
            f"({ev.number(pre + 'girth_change_cm'):g} cm in {n:g} patients). Only the average "
            "was reported, so the spread between patients is unknown; swelling and a thicker "
            "soleus mask part of the change."
        ),
        permanence=ev.text(pre + "permanence"),
        recovery=ev.text(pre + "recovery"),
        risks=risks,
        cost_two_years=None,
        cost_note=ev.text("alternatives.surgical_price_unavailable"),
        sources=cite_items(ev, keys),
        off_label=False,
        evidence_strength=(
            f"1 series of {n:g} patients ({_year(ev, pre + 'n')}); serious complications from "
            "a separate case series and a case report."
        ),
    )


def _liposuction(ev: EvidenceBase, currency: str) -> Option:
    pre = "alternatives.liposuction_"
    low, high = ev.bounds(pre + "cost_usd")
    in_other = "" if currency == "USD" else f" The evidence has no price in {currency}."
    keys = [pre + "indication", pre + "compression_months", pre + "risks", pre + "cost_usd"]
    return Option(
        key="liposuction",
        name="Liposuction (removing calf and ankle fat)",
        girth_change_cm=None,
        girth_note=ev.text(pre + "indication"),
        permanence="Fat removal is permanent; it does not change the muscle.",
        recovery=(
            f"Compression garments for about {ev.number(pre + 'compression_months'):g} months; "
            "swelling can last a long time."
        ),
        risks=(_uncounted(ev, ev.text(pre + "risks"), "no frequency reported", [pre + "risks"]),),
        cost_two_years=MoneyRange(
            low=low, typical=ev.number(pre + "cost_usd"), high=high, currency="USD"
        ),
        cost_note=(
            "One procedure, in USD, from clinic pages (secondary sources, not a price survey)."
            + in_other
        ),
        sources=cite_items(ev, keys),
        off_label=False,
        evidence_strength=(
            "No calf series with numbers: an online medical reference and clinic pages."
        ),
    )


def _no_treatment(ev: EvidenceBase, currency: str) -> Option:
    change_cm = ev.number("alternatives.no_treatment_girth_change_cm")
    n_control = ev.number("studies.park2005_n_control")
    keys = ["alternatives.no_treatment_girth_change_cm", "alternatives.no_treatment"]
    return Option(
        key="no_treatment",
        name="No treatment",
        girth_change_cm=(change_cm, change_cm, change_cm),
        girth_note=(
            f"The calf stays as it is: {n_control:g} people injected with salt water instead of "
            "toxin had unchanged calf girth (Park 2005). Compression, exercise or massage were "
            "not evaluated in the sources read."
        ),
        permanence="Nothing changes: the calf stays as it is.",
        recovery="None needed.",
        risks=(
            Risk(text="No procedure, so no risk from one.", per_1000=0.0, basis="nothing is done"),
        ),
        cost_two_years=MoneyRange.zero(currency),
        cost_note="Nothing to pay.",
        sources=cite_items(ev, keys),
        off_label=False,
        evidence_strength=f"{n_control:g} salt-water controls in 1 study ({_year(ev, keys[0])}).",
    )


def compare_alternatives(
    *,
    calf_girth_cm: float,
    botox_girth_change_cm: tuple[float, float, float],
    botox_cost_two_years: MoneyRange,
    botox_risks: tuple[Risk, ...] = (),
    ev: EvidenceBase | None = None,
) -> tuple[Option, ...]:
    """Describe Botox and its alternatives on the same measures, for one person's calf.

    Parameters
    ----------
    calf_girth_cm : float
        The person's maximal calf girth, cm; changes reported as fractions are scaled to it.
    botox_girth_change_cm : tuple of float
        (low, typical, high) predicted girth change for the Botox plan, cm (from the response
        model), low <= typical <= high.
    botox_cost_two_years : MoneyRange
        Cost of the Botox plan over two years (from `estimate_cost`).
    botox_risks : tuple of Risk, optional
        Risks of the Botox plan; by default the evidence's (no counted frequency).
    ev : EvidenceBase, optional
        Evidence to use; the shipped evidence by default.

    Returns
    -------
    tuple of Option
        In the order of `OPTION_KEYS`: botox, selective_neurectomy, surgical_resection,
        radiofrequency_ablation, liposuction, no_treatment.

    Raises
    ------
    InvalidInputError
        If the girth is out of range, the Botox band is not 3 ordered finite numbers, or the
        cost or risks have the wrong type.

    References
    ----------
    Wang H et al., Aesthetic Plast Surg 2015;39:674, doi:10.1007/s00266-015-0535-3; Lee JT et
    al., Plast Reconstr Surg 2006;118:1472; Hsu H, Lee JT, Aesthet Surg J 2022;42:1032 and
    Plast Reconstr Surg 2024;154:531; clinical-evidence.md §7; IPDAS (ipdas.ohri.ca).

    Examples
    --------
    >>> options = compare_alternatives(
    ...     calf_girth_cm=37.5, botox_girth_change_cm=(-2.0, -1.2, -0.4),
    ...     botox_cost_two_years=MoneyRange(low=3600, typical=5600, high=8400, currency="USD"))
    >>> [o.key for o in options][:3]
    ['botox', 'selective_neurectomy', 'surgical_resection']
    >>> options[4].girth_change_cm is None
    True
    """
    ev = load_evidence() if ev is None else ev
    _check_inputs(calf_girth_cm, botox_girth_change_cm, botox_cost_two_years, botox_risks)
    band_cm = tuple(float(x) for x in botox_girth_change_cm)
    currency = botox_cost_two_years.currency
    return (
        _botox(ev, (band_cm[0], band_cm[1], band_cm[2]), botox_cost_two_years, tuple(botox_risks)),
        _neurectomy(ev),
        _resection(ev, float(calf_girth_cm)),
        _radiofrequency(ev, float(calf_girth_cm)),
        _liposuction(ev, currency),
        _no_treatment(ev, currency),
    )

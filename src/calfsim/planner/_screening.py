"""Screening of a person for calf reduction by botulinum toxin, with reasons.

`screen` turns the answers of the intake questionnaire, the person's age, the leg measurements
and any toxin received elsewhere into a verdict with reasons in plain words. Each reason cites
the evidence items behind it. The overall verdict is the most severe reason. A question left
unanswered counts as *not asked*, never as "no", so an incomplete questionnaire is never a
``candidate``.

Rules and their severity (the verdict each reason implies on its own):

============================  ===============  ====================================================
Reason ``code``               Verdict          Why this severity (evidence tag)
============================  ===============  ====================================================
infection_at_site             not_recommended  Label contraindication (stated); temporary, so the
                                               text says to wait until it has healed.
skin_condition_at_site        consult          The label names infection only; other skin
                                               conditions are excluded by the procedure page
                                               (stated); a clinician judges the area.
neuromuscular_disease         not_recommended  Label warning of serious effects in ALS, myasthenia
                                               gravis, Lambert-Eaton (stated); for a cosmetic use
                                               an exclusion.
toxin_hypersensitivity        not_recommended  Label contraindication (stated); every product is
                                               excluded.
cows_milk_protein_allergy     not_recommended  Dysport label contraindication (secondary: read as
                              (abobotulinum-   quoted). With another product only
                              toxinA), else    abobotulinumtoxinA is excluded and the reason is
                              candidate        informational.
pregnant_or_breastfeeding     not_recommended  No adequate human data (stated); an elective
                                               cosmetic treatment can wait.
age_under_18                  not_recommended  No study included minors (inferred); a cosmetic
                                               treatment for adults.
aminoglycosides               consult          Potentiation is an interaction (stated), not a label
                                               contraindication; courses are short, so a
                                               clinician can time the injections after one.
anticoagulants                consult          More bruising (inferred); never a reason to stop a
                                               prescribed blood thinner unasked.
bleeding_disorder             consult          More bruising or haematoma (inferred).
athlete_or_calf_power_work    consult          Poor candidates (stated, Kugan 2021): weaker
                                               plantar flexion is a trade-off to discuss.
fat_dominant_calf             consult          Little circumference change when the bulk is fat
                                               (secondary; S10 stated); not unsafe, so the
                                               alternatives are suggested.
expects_permanent_result      consult          The effect is temporary (stated).
expects_large_change,         consult          Hoped-for change beyond the largest mean change of
expects_larger_calf                            the calf studies (Park 2005, -1.5 cm at 150 U per
                                               calf), or a wish for bigger calves.
recent_toxin                  consult          Toxin within the minimum interval (84 days,
                                               stated); the text says how long to wait.
ceiling_room_low              consult          Toxin elsewhere leaves less room under the ceiling
                                               (400 U per 90 days, stated) than the smallest
                                               studied dose for the calves; temporary, so the
                                               text says how long to wait.
not_asked                     consult          Unanswered safety questions must be asked by a
                                               clinician.
============================  ===============  ====================================================

Fat dominance is flagged by any of: the answer ``calf_fat_dominant``; an ultrasound fat layer
thicker than ``safety.fat_bulge_min_mm`` on either leg; no muscle bulge on a heel raise; a calf
pinch above ``safety.pinch_fat_dominant_min_cm``. Toxin received elsewhere is converted to
onabotulinumtoxinA-equivalent units with the *lowest* plausible ratio (abobotulinumtoxinA:
units / 2.5), so that the uncertainty of the conversion errs on the safe side.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from enum import Enum

from calfsim.domain import LegMeasurements, Patient, RecentToxin, Sex, Side, ToxinProduct
from calfsim.domain._checks import raise_all
from calfsim.errors import InvalidInputError
from calfsim.evidence import EvidenceBase, load_evidence
from calfsim.units import weeks_from_days

__all__ = [
    "Reason",
    "ScreeningAnswers",
    "ScreeningResult",
    "Verdict",
    "cite_items",
    "join_words",
    "screen",
]

#: Evidence key of each product's "units per onabotulinumtoxinA unit" ratio.
RATIO_KEYS: dict[ToxinProduct, str] = {
    ToxinProduct.ONABOTULINUMTOXINA: "products.ona_per_ona_ratio",
    ToxinProduct.INCOBOTULINUMTOXINA: "products.inco_per_ona_ratio",
    ToxinProduct.PRABOTULINUMTOXINA: "products.pra_per_ona_ratio",
    ToxinProduct.ABOBOTULINUMTOXINA: "products.abo_per_ona_ratio",
    ToxinProduct.LETIBOTULINUMTOXINA: "products.leti_per_ona_ratio",
}

#: Input sanity bounds (not clinical thresholds): they only catch values typed in the wrong unit.
PINCH_LIMITS_CM = (0.1, 15.0)
EXPECTED_CHANGE_LIMITS_CM = (-30.0, 30.0)

#: The yes/no questions: (plain label for lists, evidence keys of the rule that uses the answer).
_QUESTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "infection_at_site": (
        "an infection where the injections would go",
        ("safety.contraindication_injection_site_infection",),
    ),
    "skin_condition_at_site": (
        "a skin condition where the injections would go",
        ("safety.contraindication_injection_site_infection", "procedure.not_recommended_for"),
    ),
    "neuromuscular_disease": (
        "a disease of the nerves or muscles",
        ("safety.neuromuscular_disease",),
    ),
    "toxin_hypersensitivity": (
        "an allergy to a botulinum toxin product",
        ("safety.contraindication_hypersensitivity",),
    ),
    "cows_milk_protein_allergy": (
        "an allergy to cow's-milk protein",
        ("safety.contraindication_cows_milk_protein",),
    ),
    "pregnant_or_breastfeeding": (
        "pregnancy or breast-feeding",
        ("safety.pregnancy_breastfeeding",),
    ),
    "aminoglycosides": ("aminoglycoside antibiotics", ("safety.interaction_aminoglycosides",)),
    "anticoagulants": ("blood thinners", ("safety.anticoagulants_bruising",)),
    "bleeding_disorder": ("a bleeding disorder", ("safety.bleeding_disorder",)),
    "athlete_or_calf_power_work": ("sport or work that needs calf power", ("safety.athletes",)),
    "calf_fat_dominant": ("whether the calf is mostly fat", ("safety.fat_dominated_calves",)),
    "heel_raise_bulge": ("whether the calf bulges on a heel raise", ("safety.heel_raise_bulge",)),
    "expects_permanent_result": (
        "whether a permanent result is expected",
        ("procedure.maintenance", "procedure.duration_months"),
    ),
}
#: Questions asked outside `ScreeningAnswers` (age from `Patient`, toxin from ``recent_toxin``).
_OTHER_QUESTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "age_years": ("age", ("safety.age_under_18", "safety.min_age_years")),
    "recent_toxin": (
        "botulinum toxin received elsewhere in the last 3 months",
        ("safety.ceiling_per_3_months_u", "safety.min_interval_days"),
    ),
}


class Verdict(Enum):
    """Outcome of the screening, ordered by severity (see `Verdict.severity`)."""

    CANDIDATE = "candidate"
    CONSULT = "consult"
    NOT_RECOMMENDED = "not_recommended"

    @property
    def severity(self) -> int:
        """Rank of the verdict: 0 candidate, 1 consult, 2 not recommended.

        Examples
        --------
        >>> Verdict.CONSULT.severity < Verdict.NOT_RECOMMENDED.severity
        True
        """
        return list(Verdict).index(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScreeningAnswers:
    """Answers to the screening questionnaire; ``None`` means the question was not asked.

    Parameters
    ----------
    infection_at_site, skin_condition_at_site : bool, optional
        Infection, or another skin condition, where the injections would go.
    neuromuscular_disease : bool, optional
        Myasthenia gravis, Lambert-Eaton syndrome, ALS or another nerve or muscle disease.
    toxin_hypersensitivity : bool, optional
        Allergy to any botulinum toxin product or a component of one.
    cows_milk_protein_allergy : bool, optional
        Allergy to cow's-milk protein (rules out abobotulinumtoxinA).
    pregnant_or_breastfeeding : bool, optional
        Not asked of male patients.
    aminoglycosides, anticoagulants : bool, optional
        Taking aminoglycoside antibiotics (or other neuromuscular blockers); blood thinners.
    bleeding_disorder, athlete_or_calf_power_work : bool, optional
    calf_fat_dominant : bool, optional
        The person (or clinician) judges the calf bulk to be mostly fat.
    heel_raise_bulge : bool, optional
        The calf muscle visibly bulges on a heel raise (a sign of a muscular calf).
    pinch_test_cm : float, optional
        Thickness of a pinched calf skin fold, cm (optional; not listed as not asked).
    expects_permanent_result : bool, optional
    expected_girth_change_cm : float, optional
        The calf girth change the person hopes for, cm (negative = slimmer; optional).

    Raises
    ------
    InvalidInputError
        If an answer is not True, False or None, or a number is out of its accepted range.

    Examples
    --------
    >>> ScreeningAnswers(infection_at_site=False).skin_condition_at_site is None
    True
    """

    infection_at_site: bool | None = None
    skin_condition_at_site: bool | None = None
    neuromuscular_disease: bool | None = None
    toxin_hypersensitivity: bool | None = None
    cows_milk_protein_allergy: bool | None = None
    pregnant_or_breastfeeding: bool | None = None
    aminoglycosides: bool | None = None
    anticoagulants: bool | None = None
    bleeding_disorder: bool | None = None
    athlete_or_calf_power_work: bool | None = None
    calf_fat_dominant: bool | None = None
    heel_raise_bulge: bool | None = None
    pinch_test_cm: float | None = None
    expects_permanent_result: bool | None = None
    expected_girth_change_cm: float | None = None

    def __post_init__(self) -> None:
        errors: list[InvalidInputError] = []
        for name in _QUESTIONS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                errors.append(
                    InvalidInputError(
                        f"{name} must be true, false or null (not asked); got {value!r}",
                        field=name,
                    )
                )
        for name, (low, high), hint_factor in (
            ("pinch_test_cm", PINCH_LIMITS_CM, 0.1),
            ("expected_girth_change_cm", EXPECTED_CHANGE_LIMITS_CM, None),
        ):
            value = getattr(self, name)
            if value is None:
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or not low <= value <= high
            ):
                hint = ""
                if (
                    hint_factor is not None
                    and isinstance(value, int | float)
                    and not isinstance(value, bool)
                    and low <= value * hint_factor <= high
                ):
                    hint = f". {value:g} looks like millimetres ({value * hint_factor:g} cm)"
                errors.append(
                    InvalidInputError(
                        f"{name} must be in [{low:g}, {high:g}] cm; got {value!r}{hint}",
                        field=name,
                    )
                )
                continue
            object.__setattr__(self, name, float(value))
        raise_all(errors)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Return the names of the yes/no questions, in questionnaire order.

        Examples
        --------
        >>> ScreeningAnswers.names()[:2]
        ('infection_at_site', 'skin_condition_at_site')
        """
        order = [f.name for f in fields(cls)]
        return tuple(sorted(_QUESTIONS, key=order.index))


@dataclass(frozen=True, slots=True, kw_only=True)
class Reason:
    """One finding of the screening, in plain words, with its evidence.

    Attributes
    ----------
    code : str
        Stable identifier (``"infection_at_site"``, ``"age_under_18"``, ``"not_asked"``, ...).
    verdict : Verdict
        The verdict this reason implies on its own.
    text : str
        One or two sentences for a lay person.
    evidence_keys : tuple of str
        Evidence items supporting the reason (at least one).
    citations : tuple of str
        Short citations ("First author year") of those items' sources.
    """

    code: str
    verdict: Verdict
    text: str
    evidence_keys: tuple[str, ...]
    citations: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ScreeningResult:
    """Verdict with its reasons, as returned by `screen`.

    Attributes
    ----------
    verdict : Verdict
        The most severe verdict among the reasons (``CANDIDATE`` if there is none).
    reasons : tuple of Reason
        Sorted from most to least severe.
    not_asked : tuple of str
        Questions without an answer: names from `ScreeningAnswers.names`, plus ``"age_years"``
        if the age is unknown and ``"recent_toxin"`` if it was passed as None.
    suggests_alternatives : bool
        True when the calf looks fat-dominated or the expectations only surgery could meet
        (permanent or large change): the alternatives should be shown.
    excluded_products : frozenset of ToxinProduct
        Products that must not be used for this person.
    ceiling_room_u : float
        onabotulinumtoxinA-equivalent units left on day 0 under the 3-month ceiling once toxin
        received elsewhere is counted (conservative conversion); never below 0.
    min_wait_days : float
        Days to wait before the first session so that the minimum interval since toxin
        received elsewhere is kept and the ceiling leaves room for the smallest studied calf
        dose (0 if no wait is needed).
    """

    verdict: Verdict
    reasons: tuple[Reason, ...]
    not_asked: tuple[str, ...]
    suggests_alternatives: bool
    excluded_products: frozenset[ToxinProduct]
    ceiling_room_u: float
    min_wait_days: float = 0.0


def cite_items(ev: EvidenceBase, keys: Iterable[str]) -> tuple[str, ...]:
    """Return the short citations of the sources of evidence items, without repeats.

    Sources without authors are named by their journal (or title); a source without a year
    says so.

    Examples
    --------
    >>> cite_items(load_evidence(), ["safety.min_interval_days"])
    ('Allergan (year not recorded)', 'Hong JY et al. 2023')
    """
    labels: dict[str, None] = {}
    for key in keys:
        for citation in ev.item(key).sources:
            if citation.authors.strip():
                label = citation.short()
            else:
                # No authors captured: the journal without its volume and pages, else the title.
                name = re.split(r"\s\d", citation.journal)[0].strip()
                name = name or citation.title.split(" (")[0]
                label = f"{name} {citation.year}" if citation.year else name
            if citation.year is None:
                label += " (year not recorded)"
            labels.setdefault(label, None)
    return tuple(labels)


def _conservative_ona_u(amount_u: float, product: ToxinProduct, ev: EvidenceBase) -> float:
    """onabotulinumtoxinA-equivalent units with the lowest plausible ratio (most units)."""
    low_ratio, _ = ev.bounds(RATIO_KEYS[product])
    return amount_u / low_ratio


def join_words(items: Sequence[str]) -> str:
    """Join words as "a, b and c".

    Examples
    --------
    >>> join_words(["a", "b", "c"])
    'a, b and c'
    """
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


class _Builder:
    """Collects reasons with their citations."""

    def __init__(self, ev: EvidenceBase) -> None:
        self.ev = ev
        self.reasons: list[Reason] = []

    def add(self, code: str, verdict: Verdict, text: str, keys: Sequence[str]) -> None:
        keys = tuple(dict.fromkeys(keys))
        for key in keys:
            self.ev.item(key)  # a missing item is a programming error: fail loudly
        self.reasons.append(
            Reason(
                code=code,
                verdict=verdict,
                text=text,
                evidence_keys=keys,
                citations=cite_items(self.ev, keys),
            )
        )


def _check_inputs(
    answers: ScreeningAnswers,
    patient: Patient,
    legs: Mapping[Side, LegMeasurements],
    recent_toxin: Sequence[RecentToxin] | None,
    product: ToxinProduct,
) -> None:
    if not isinstance(answers, ScreeningAnswers):
        raise InvalidInputError(
            f"answers must be a ScreeningAnswers; got {type(answers).__name__}", field="screening"
        )
    if not isinstance(patient, Patient):
        raise InvalidInputError(
            f"patient must be a Patient; got {type(patient).__name__}", field="patient"
        )
    for side, leg in legs.items():
        if not isinstance(side, Side) or not isinstance(leg, LegMeasurements):
            raise InvalidInputError(
                f"legs must map 'left'/'right' to leg measurements; got {side!r}: {leg!r}",
                field="legs",
            )
    if not isinstance(product, ToxinProduct):
        raise InvalidInputError(
            f"product must be one of {ToxinProduct.accepted_names()}; got {product!r}",
            field="product",
        )
    for entry in recent_toxin or ():
        if not isinstance(entry, RecentToxin):
            raise InvalidInputError(
                f"recent_toxin entries must be RecentToxin; got {entry!r}", field="recent_toxin"
            )


def _contraindications(
    b: _Builder, answers: ScreeningAnswers, patient: Patient, product: ToxinProduct
) -> set[ToxinProduct]:
    """Add the medical reasons; return the excluded products."""
    excluded: set[ToxinProduct] = set()
    nr, consult = Verdict.NOT_RECOMMENDED, Verdict.CONSULT
    if answers.infection_at_site:
        b.add(
            "infection_at_site",
            nr,
            "There is an infection where the injections would go. "
            "Injections must wait until it has healed.",
            _QUESTIONS["infection_at_site"][1],
        )
    if answers.skin_condition_at_site:
        b.add(
            "skin_condition_at_site",
            consult,
            "There is a skin condition where the injections would go. "
            "A clinician should look at it before any injection there.",
            _QUESTIONS["skin_condition_at_site"][1],
        )
    if answers.neuromuscular_disease:
        b.add(
            "neuromuscular_disease",
            nr,
            "A disease of the nerves or muscles (such as myasthenia gravis, Lambert-Eaton "
            "syndrome or ALS) makes serious side effects of the toxin more likely, so cosmetic "
            "calf injections are not recommended.",
            _QUESTIONS["neuromuscular_disease"][1],
        )
    if answers.toxin_hypersensitivity:
        excluded.update(ToxinProduct)
        b.add(
            "toxin_hypersensitivity",
            nr,
            "An allergy to a botulinum toxin product or one of its ingredients rules the "
            "injections out.",
            _QUESTIONS["toxin_hypersensitivity"][1],
        )
    if answers.cows_milk_protein_allergy:
        abo = ToxinProduct.ABOBOTULINUMTOXINA
        excluded.add(abo)
        if product is abo:
            b.add(
                "cows_milk_protein_allergy",
                nr,
                "An allergy to cow's-milk protein rules out abobotulinumtoxinA (Dysport), the "
                "product chosen. Another product could be discussed with a clinician.",
                _QUESTIONS["cows_milk_protein_allergy"][1],
            )
        else:
            b.add(
                "cows_milk_protein_allergy",
                Verdict.CANDIDATE,
                "An allergy to cow's-milk protein rules out abobotulinumtoxinA (Dysport) only; "
                f"the chosen product, {product.value}, is not affected.",
                _QUESTIONS["cows_milk_protein_allergy"][1],
            )
    if answers.pregnant_or_breastfeeding:
        b.add(
            "pregnant_or_breastfeeding",
            nr,
            "Injections are not recommended during pregnancy or breast-feeding: there are no "
            "adequate safety data in people, and a cosmetic treatment can wait.",
            _QUESTIONS["pregnant_or_breastfeeding"][1],
        )
    min_age_years = b.ev.number("safety.min_age_years")
    if patient.age_years is not None and patient.age_years < min_age_years:
        b.add(
            "age_under_18",
            nr,
            f"Calf reduction is a cosmetic treatment for adults; at {patient.age_years:g} years "
            f"(under {min_age_years:g}) it is not recommended, and no study included people "
            f"under {min_age_years:g}.",
            _OTHER_QUESTIONS["age_years"][1],
        )
    if answers.aminoglycosides:
        b.add(
            "aminoglycosides",
            consult,
            "Aminoglycoside antibiotics (such as gentamicin or tobramycin) can strengthen the "
            "toxin's effect. A clinician must decide; usually the injections wait until the "
            "course of antibiotics is over.",
            _QUESTIONS["aminoglycosides"][1],
        )
    if answers.anticoagulants:
        b.add(
            "anticoagulants",
            consult,
            "Blood thinners can make bruising at the injection sites more likely. Tell the "
            "clinician, and do not stop a blood thinner on your own.",
            _QUESTIONS["anticoagulants"][1],
        )
    if answers.bleeding_disorder:
        b.add(
            "bleeding_disorder",
            consult,
            "A bleeding disorder can make bruising or a collection of blood (haematoma) at the "
            "injection sites more likely; a clinician should decide.",
            _QUESTIONS["bleeding_disorder"][1],
        )
    if answers.athlete_or_calf_power_work:
        b.add(
            "athlete_or_calf_power_work",
            consult,
            "The injections weaken the calf muscle for months, which matters for sport or work "
            "that needs calf power (running, jumping, cycling). Discuss it with a clinician.",
            _QUESTIONS["athlete_or_calf_power_work"][1],
        )
    return excluded


def _fat_dominance(
    b: _Builder, answers: ScreeningAnswers, legs: Mapping[Side, LegMeasurements]
) -> bool:
    """Add the fat-dominant reason if any sign points to it; return whether it did."""
    ev = b.ev
    signs: list[str] = []
    keys: list[str] = ["safety.fat_dominated_calves"]
    if answers.calf_fat_dominant:
        signs.append("the calf was judged to be mostly fat")
    fat_limit_mm = ev.number("safety.fat_bulge_min_mm")
    for side in Side:
        leg = legs.get(side)
        if leg is not None and leg.fat_thickness_mm is not None:
            if leg.fat_thickness_mm > fat_limit_mm:
                signs.append(
                    f"the fat layer of the {side.value} calf is {leg.fat_thickness_mm:g} mm "
                    f"(more than {fat_limit_mm:g} mm)"
                )
                keys.append("safety.fat_bulge_min_mm")
    if answers.heel_raise_bulge is False:
        signs.append("the calf does not bulge on a heel raise")
        keys.append("safety.heel_raise_bulge")
    pinch_limit_cm = ev.number("safety.pinch_fat_dominant_min_cm")
    if answers.pinch_test_cm is not None and answers.pinch_test_cm > pinch_limit_cm:
        signs.append(
            f"the pinch test is {answers.pinch_test_cm:g} cm (more than {pinch_limit_cm:g} cm)"
        )
        keys.append("safety.pinch_fat_dominant_min_cm")
    if not signs:
        return False
    keys.append("alternatives.liposuction_indication")
    b.add(
        "fat_dominant_calf",
        Verdict.CONSULT,
        "Most of the calf's bulk looks like fat, and Botox only shrinks muscle, so the calf may "
        f"get only a little slimmer ({join_words(signs)}). Liposuction or another option may suit "
        "better; see the alternatives.",
        keys,
    )
    return True


def _expectations(b: _Builder, answers: ScreeningAnswers) -> bool:
    """Add reasons for expectations Botox cannot meet; return whether one points to surgery."""
    ev = b.ev
    points_to_surgery = False
    if answers.expects_permanent_result:
        low, high = ev.bounds("procedure.duration_months")
        b.add(
            "expects_permanent_result",
            Verdict.CONSULT,
            f"The result of Botox is temporary: it lasts about {low:g} to {high:g} months, and "
            "maintenance sessions are needed to keep it.",
            _QUESTIONS["expects_permanent_result"][1],
        )
        points_to_surgery = True
    hoped_cm = answers.expected_girth_change_cm
    if hoped_cm is not None:
        studied_cm = min(ev.series("studies.park2005_girth_change_cm"))
        top_dose_u = max(ev.series("studies.park2005_dose_u"))
        surgical_keys = (
            "alternatives.selective_neurectomy_girth_change_cm",
            "alternatives.resection_soleus_neurectomy_girth_change_cm",
        )
        surgical_cm = sorted(abs(ev.number(k)) for k in surgical_keys)
        if hoped_cm < studied_cm:
            b.add(
                "expects_large_change",
                Verdict.CONSULT,
                f"You hope for calves {abs(hoped_cm):g} cm slimmer. The largest average change "
                f"in the calf Botox studies was {abs(studied_cm):.1f} cm (Park 2005, "
                f"{top_dose_u:g} U per calf); changes of {surgical_cm[0]:g} to "
                f"{surgical_cm[-1]:g} cm are reported only after surgery.",
                ("studies.park2005_girth_change_cm", *surgical_keys),
            )
            points_to_surgery = True
        elif hoped_cm > 0:
            b.add(
                "expects_larger_calf",
                Verdict.CONSULT,
                f"You hope for calves {hoped_cm:g} cm larger, but Botox can only make the calf "
                "muscle smaller.",
                ("procedure.summary",),
            )
    return points_to_surgery


def _recent_toxin(
    b: _Builder,
    recent_toxin: Sequence[RecentToxin],
    legs: Mapping[Side, LegMeasurements],
) -> tuple[float, float]:
    """Add the interval and ceiling reasons; return (ceiling room on day 0, days to wait)."""
    ev = b.ev
    ceiling_u = ev.number("safety.ceiling_per_3_months_u")
    window_days = ev.number("safety.ceiling_window_days")
    interval_days = ev.number("safety.min_interval_days")
    n_legs = len(legs) or len(Side)
    needed_u = n_legs * ev.number("dosing.lowest_study_dose_per_calf_u")
    # Toxin given `days_ago` days before day 0 counts on day d while d - window < -days_ago.
    in_window = [
        (t.days_ago, _conservative_ona_u(t.amount_u, t.product, ev), t.product)
        for t in recent_toxin
        if t.days_ago < window_days
    ]
    used_u = sum(u for _, u, _ in in_window)
    room_u = max(0.0, ceiling_u - used_u)
    ratio_keys = sorted({RATIO_KEYS[p] for _, _, p in in_window})
    ceiling_keys = [
        "safety.ceiling_per_3_months_u",
        "safety.ceiling_window_days",
        *ratio_keys,
    ]

    ceiling_wait_days = 0.0
    if room_u < needed_u:
        # Oldest toxin leaves the window first, at day (window - days_ago).
        remaining_u = used_u
        for days_ago, u, _ in sorted(in_window, key=lambda e: -e[0]):
            remaining_u -= u
            ceiling_wait_days = window_days - days_ago
            if ceiling_u - remaining_u >= needed_u:
                break
        b.add(
            "ceiling_room_low",
            Verdict.CONSULT,
            f"Toxin received in the last {window_days:g} days counts as {used_u:.0f} U "
            f"onabotulinumtoxinA-equivalent against the limit of {ceiling_u:g} U per "
            f"{window_days:g} days, leaving {room_u:.0f} U: less than the smallest dose studied "
            f"for {n_legs} {'calf' if n_legs == 1 else 'calves'} ({needed_u:g} U). Wait at least "
            f"{ceiling_wait_days:g} more days, until enough of that toxin no longer counts.",
            [*ceiling_keys, "dosing.lowest_study_dose_per_calf_u"],
        )

    recent = [t for t in recent_toxin if t.days_ago < interval_days]
    interval_wait_days = 0.0
    if recent:
        latest = min(t.days_ago for t in recent)
        interval_wait_days = interval_days - latest
        room_text = ""
        if room_u >= needed_u:
            room_text = (
                f" It counts as {used_u:.0f} U onabotulinumtoxinA-equivalent against the limit "
                f"of {ceiling_u:g} U per {window_days:g} days, leaving {room_u:.0f} U."
            )
        b.add(
            "recent_toxin",
            Verdict.CONSULT,
            f"You had botulinum toxin {latest:g} days ago. Repeating toxin within "
            f"{interval_days:g} days ({weeks_from_days(interval_days):g} weeks) has not been "
            "evaluated and may raise the risk of antibodies: wait at least "
            f"{interval_wait_days:g} more days, or discuss it with a clinician.{room_text}",
            [
                "safety.min_interval_days",
                "safety.immunogenicity",
                *(ceiling_keys if room_text else ()),
            ],
        )
    return room_u, max(ceiling_wait_days, interval_wait_days)


def screen(
    answers: ScreeningAnswers,
    *,
    patient: Patient,
    legs: Mapping[Side, LegMeasurements],
    recent_toxin: Sequence[RecentToxin] | None = (),
    product: ToxinProduct = ToxinProduct.ONABOTULINUMTOXINA,
    ev: EvidenceBase | None = None,
) -> ScreeningResult:
    """Screen a person for calf reduction by botulinum toxin.

    Parameters
    ----------
    answers : ScreeningAnswers
        The questionnaire; ``None`` answers count as not asked.
    patient : Patient
        Age (``age_years``; unknown age counts as not asked) and sex (a male patient is not
        asked about pregnancy).
    legs : mapping of Side to LegMeasurements
        Legs to treat; an ultrasound ``fat_thickness_mm`` is used for the fat check. The
        number of legs sets the smallest studied dose the ceiling must leave room for (two if
        empty).
    recent_toxin : sequence of RecentToxin, optional
        Botulinum toxin received elsewhere (any body area); ``()`` means none, ``None`` means
        not asked.
    product : ToxinProduct
        Product planned for the calves.
    ev : EvidenceBase, optional
        Evidence to use; the shipped evidence by default.

    Returns
    -------
    ScreeningResult
        The most severe verdict, the reasons (most severe first), the unanswered questions,
        whether to show the alternatives, the excluded products, the room left under the
        ceiling and the days to wait. The rules are tabulated in the module docstring.

    Raises
    ------
    InvalidInputError
        If an argument has the wrong type.

    References
    ----------
    Botox Cosmetic label (contraindications, warnings, 400 U per 3 months, 12-week interval);
    Dysport label (cow's-milk protein); Br Dent J 2022 letter (aminoglycosides, pregnancy);
    Kugan 2021 (athletes); Plast Reconstr Surg 2024;154:63e (PMID 37220391; fat groups);
    Park 2005 (largest calf change). Each reason lists its items in ``evidence_keys``.

    Examples
    --------
    >>> from calfsim.domain import LegMeasurements, Patient, Side
    >>> answers = ScreeningAnswers(**{**{n: False for n in ScreeningAnswers.names()},
    ...                               "heel_raise_bulge": True})
    >>> result = screen(answers, patient=Patient(age_years=29),
    ...                 legs={Side.LEFT: LegMeasurements(calf_girth_cm=37.5)})
    >>> result.verdict, result.ceiling_room_u
    (<Verdict.CANDIDATE: 'candidate'>, 400.0)
    """
    ev = load_evidence() if ev is None else ev
    _check_inputs(answers, patient, legs, recent_toxin, product)
    b = _Builder(ev)

    excluded = _contraindications(b, answers, patient, product)
    is_fat_dominant = _fat_dominance(b, answers, legs)
    expects_surgery_level = _expectations(b, answers)
    room_u, wait_days = _recent_toxin(b, recent_toxin or (), legs)

    not_asked = [
        name
        for name in ScreeningAnswers.names()
        if getattr(answers, name) is None
        and not (name == "pregnant_or_breastfeeding" and patient.sex is Sex.MALE)
    ]
    if patient.age_years is None:
        not_asked.append("age_years")
    if recent_toxin is None:
        not_asked.append("recent_toxin")
    if not_asked:
        questions = {**_QUESTIONS, **_OTHER_QUESTIONS}
        labels = [questions[name][0] for name in not_asked]
        b.add(
            "not_asked",
            Verdict.CONSULT,
            f"Some safety questions were not answered: {join_words(labels)}. An unanswered "
            "question never counts as 'no'; a clinician must ask it before any treatment.",
            [key for name in not_asked for key in questions[name][1]],
        )

    reasons = tuple(sorted(b.reasons, key=lambda r: -r.verdict.severity))
    verdict = max((r.verdict for r in reasons), key=lambda v: v.severity, default=Verdict.CANDIDATE)
    return ScreeningResult(
        verdict=verdict,
        reasons=reasons,
        not_asked=tuple(not_asked),
        suggests_alternatives=is_fat_dominant or expects_surgery_level,
        excluded_products=frozenset(excluded),
        ceiling_room_u=room_u,
        min_wait_days=wait_days,
    )

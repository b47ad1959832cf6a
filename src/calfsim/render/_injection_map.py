"""The printable injection map: both lower legs seen from behind, with every site and its units.

Seen from behind, the person's left leg is on the left of the image and the medial side of each
leg faces the other leg. Each leg is drawn to scale (in cm) from its girth profile (width
= girth / pi); a point at distance ``s`` along the skin from the posterior midline is drawn where
it appears from behind, ``r sin(s / r)`` from the leg's axis (``r`` = girth / 2 pi).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon
from matplotlib.transforms import Bbox

from calfsim.anatomy import LegAnatomy
from calfsim.domain import MuscleHead, Side
from calfsim.errors import InvalidInputError
from calfsim.planner import (
    Dilution,
    HeadRegion,
    InjectionSite,
    SafeZones,
    head_regions,
    safe_zones,
)

__all__ = ["draw_injection_map"]

#: A4 portrait in inches; printed at 100 % it is the sheet itself.
_PAGE_IN = (8.27, 11.69)
_DPI = 100
_HEAD_STYLE = {
    MuscleHead.GM_MEDIAL: ("#e8a0a0", "#a33a3a", "medial gastrocnemius head"),
    MuscleHead.GM_LATERAL: ("#9fc3e6", "#245d94", "lateral gastrocnemius head"),
    MuscleHead.SOLEUS: ("#b8dcae", "#3f7a32", "soleus (beside the Achilles tendon)"),
}
_SHORT = {MuscleHead.GM_MEDIAL: "MG", MuscleHead.GM_LATERAL: "LG", MuscleHead.SOLEUS: "Sol"}
_SKIN = "#f6e6da"
_OUTLINE = "#6b5446"
_NOGO = "#7a7a7a"
#: Gap between the two legs' outlines, cm.
_GAP_CM = 6.0
#: Above this many sites on one leg the table lists heads instead of sites (to stay legible).
_MAX_TABLE_ROWS = 14
#: Heights on the page, inches: heading, legend, one table row, footer.
_HEADING_IN = 0.75
_DILUTION_IN = 0.4
_LEGEND_IN = 0.55
_ROW_IN = 0.2
_FOOTER_IN = 0.55

FloatArray = np.ndarray
#: Maps (offset along the skin from the midline, level) to the x of the drawing, cm.
XOf = Callable[[FloatArray | float, FloatArray | float], FloatArray]


def _projected_cm(offset_cm: np.ndarray | float, radius_cm: np.ndarray | float) -> np.ndarray:
    """Where a point ``offset_cm`` along the skin from the midline appears, seen from behind."""
    offset = np.asarray(offset_cm, dtype=np.float64)
    radius = np.asarray(radius_cm, dtype=np.float64)
    angle = np.clip(offset / radius, -math.pi / 2, math.pi / 2)
    return np.asarray(radius * np.sin(angle), dtype=np.float64)


def _check_legs(
    legs: Mapping[Side, tuple[LegAnatomy, tuple[InjectionSite, ...]]],
) -> list[tuple[Side, LegAnatomy, tuple[InjectionSite, ...]]]:
    if not isinstance(legs, Mapping) or not legs:
        raise InvalidInputError("legs must map at least one Side to (anatomy, sites)", field="legs")
    checked = []
    for side in (Side.LEFT, Side.RIGHT):
        if side not in legs:
            continue
        anatomy, sites = legs[side]
        if not isinstance(anatomy, LegAnatomy):
            raise InvalidInputError(
                f"legs[{side.value}] must hold a LegAnatomy; got {type(anatomy).__name__}",
                field="legs",
            )
        for site in sites:
            if not isinstance(site, InjectionSite) or site.side is not side:
                raise InvalidInputError(
                    f"legs[{side.value}] holds a site that is not an InjectionSite of the "
                    f"{side.value} leg: {site!r}",
                    field="legs",
                )
        checked.append((side, anatomy, tuple(sites)))
    if len(checked) != len(legs):
        raise InvalidInputError("legs keys must be Side.LEFT and/or Side.RIGHT", field="legs")
    return checked


def draw_injection_map(
    legs: Mapping[Side, tuple[LegAnatomy, tuple[InjectionSite, ...]]],
    path: Path,
    *,
    title: str = "",
    zones: SafeZones | None = None,
    dilution: Dilution | None = None,
) -> Path:
    """Draw the injection map of one session as a printable A4 image.

    Both legs are seen from behind, side by side and to scale: the person's left leg on the
    left, medial sides facing each other. Each head is shaded; the no-go zones (popliteal band,
    midline strip over the sural nerve and small saphenous vein, and the ends of the bellies
    above the tendon junction) are hatched; every site is a numbered dot with its units. A table
    gives each site's position, depth, units and volume.

    Parameters
    ----------
    legs : mapping of Side to (LegAnatomy, tuple of InjectionSite)
        Each leg's anatomy and its sites (from :func:`calfsim.planner.plan_sites`).
    path : Path
        Output file; the format follows the suffix (``.png`` at 100 dpi; ``.svg`` and ``.pdf``
        also work, with one element ``id="site-<side>-<index>"`` per site in SVG).
    title : str, optional
        First line of the heading.
    zones : SafeZones, optional
        The margins used to plan the sites; default :func:`calfsim.planner.safe_zones`.
    dilution : Dilution, optional
        If given, the preparation (vials, saline, concentration, syringes) is printed under the
        heading.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InvalidInputError
        If ``legs`` is empty, holds something other than a `LegAnatomy`, or a site of another
        leg.
    """
    checked = _check_legs(legs)
    margins = safe_zones() if zones is None else zones
    fig = _figure(checked, title=title, zones=margins, dilution=dilution)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)
    return path


def _dilution_line(dilution: Dilution) -> str:
    return (
        f"Preparation: {dilution.n_vials} × {dilution.vial_u:g} U {dilution.product.value} "
        f"vial(s), each + {dilution.diluent_ml:.2f} mL saline = "
        f"{dilution.concentration_u_per_ml:g} U/mL  ·  inject {dilution.total_units_u:g} U = "
        f"{dilution.total_volume_ml:.2f} mL\n{dilution.syringes} × {dilution.syringe_ml:g} mL "
        f"syringe(s)  ·  {dilution.units_discarded_u:g} U left over  ·  use within "
        f"{24 * dilution.use_within_days:g} h of reconstitution, refrigerated"
    )


def _figure(
    legs: Sequence[tuple[Side, LegAnatomy, tuple[InjectionSite, ...]]],
    *,
    title: str,
    zones: SafeZones,
    dilution: Dilution | None,
) -> Figure:
    page_h = _PAGE_IN[1]
    fig = plt.figure(figsize=_PAGE_IN, dpi=_DPI)
    fig.text(
        0.5,
        1 - 0.2 / page_h,
        title or "Injection map",
        ha="center",
        va="top",
        fontsize=14,
        weight="bold",
    )
    if len(legs) == 2:
        subtitle = (
            "Both legs SEEN FROM BEHIND  ·  the person's left leg is on the left  ·  "
            "medial sides face each other"
        )
    else:
        only = legs[0][0]
        towards = "right" if only is Side.LEFT else "left"
        subtitle = (
            f"{only.value.capitalize()} leg only, SEEN FROM BEHIND  ·  its medial side is on the "
            f"{towards} (towards the other leg)"
        )
    fig.text(
        0.5,
        1 - 0.48 / page_h,
        subtitle,
        ha="center",
        va="top",
        fontsize=9.5,
        color="#222222",
    )
    if dilution is not None:
        fig.text(
            0.5,
            1 - 0.7 / page_h,
            _dilution_line(dilution),
            ha="center",
            va="top",
            fontsize=8,
            color="#333333",
        )
    n_rows = max(max(len(_site_rows(sites)[1]) for _, _, sites in legs), 1)
    table_in = 0.3 + _ROW_IN * (n_rows + 1)
    bottom_in = _FOOTER_IN + table_in + _LEGEND_IN
    heading_in = _HEADING_IN + (_DILUTION_IN if dilution is not None else 0.0)
    legs_in = page_h - heading_in - bottom_in
    ax = fig.add_axes((0.08, bottom_in / page_h, 0.9, legs_in / page_h))
    max_radius = max(float(a.girth_cm.max()) / (2 * math.pi) for _, a, _ in legs)
    half_span = max_radius + _GAP_CM / 2.0
    centres = {side: (-1 if side is Side.LEFT else 1) * half_span for side, _, _ in legs}
    if len(legs) == 1:
        centres = {legs[0][0]: 0.0}
    heads_used: set[MuscleHead] = {MuscleHead.GM_MEDIAL, MuscleHead.GM_LATERAL}
    longest_cm = 0.0
    for side, anatomy, sites in legs:
        heads_used |= {s.head for s in sites}
        longest_cm = max(longest_cm, anatomy.length_cm)
        _draw_leg(ax, side, anatomy, sites, centres[side], zones)
    x_mid = sum(centres.values()) / len(centres)
    x_half = max(abs(c - x_mid) for c in centres.values()) + max_radius + 2.0
    ax.set_xlim(x_mid - x_half, x_mid + x_half)
    ax.set_ylim(longest_cm + 2.5, -3.2)
    ax.set_aspect("equal", adjustable="box", anchor="C")
    ax.set_xticks([])
    ax.set_ylabel("cm below the knee crease (along the leg)", fontsize=9)
    ax.set_yticks(np.arange(0, longest_cm + 1, 5))
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(axis="y", color="#e4e4e4", lw=0.6, zorder=0)
    for spine in ("top", "right", "bottom"):
        ax.spines[spine].set_visible(False)
    _legend(fig, heads_used, zones, top=(table_in + _FOOTER_IN + _LEGEND_IN) / page_h)
    _tables(fig, legs, bottom=_FOOTER_IN / page_h, n_rows=n_rows)
    fig.text(
        0.5,
        0.1 / page_h,
        "Level: cm below the knee crease, along the leg. From midline: cm along the skin from the "
        "back midline (M medial, L lateral). Depth: skin to\nneedle tip at mid-muscle. Margins, "
        "spacing and depth are stated assumptions (no published values): confirm by palpation "
        "or ultrasound.\nCalf reduction with botulinum toxin is off-label. A planning aid, not a "
        "substitute for clinical judgement.",
        ha="center",
        va="bottom",
        fontsize=7,
        color="#444444",
    )
    return fig


def _draw_leg(
    ax: Axes,
    side: Side,
    anatomy: LegAnatomy,
    sites: tuple[InjectionSite, ...],
    centre_cm: float,
    zones: SafeZones,
) -> None:
    levels = np.asarray(anatomy.levels_cm, dtype=np.float64)
    radius = np.asarray(anatomy.girth_cm, dtype=np.float64) / (2 * math.pi)
    medial = 1.0 if side is Side.LEFT else -1.0  # medial points towards the other leg
    length = anatomy.length_cm

    def x_of(offset_cm: np.ndarray | float, level_cm: np.ndarray | float) -> np.ndarray:
        r = np.interp(level_cm, levels, radius)
        return centre_cm + medial * _projected_cm(offset_cm, r)

    # Skin outline, knee crease and ankle.
    skin = np.concatenate([centre_cm - radius, (centre_cm + radius)[::-1]])
    ax.add_patch(
        Polygon(
            np.column_stack([skin, np.concatenate([levels, levels[::-1]])]),
            closed=True,
            facecolor=_SKIN,
            edgecolor=_OUTLINE,
            lw=1.4,
            zorder=1,
        )
    )
    for level_cm, label in ((0.0, "knee crease"), (length, "ankle (malleoli)")):
        r = float(np.interp(level_cm, levels, radius))
        ax.plot([centre_cm - r, centre_cm + r], [level_cm] * 2, color=_OUTLINE, lw=1.2, zorder=4)
        ax.text(
            centre_cm,
            level_cm + (-0.5 if level_cm == 0 else 1.0),
            label,
            ha="center",
            va="bottom" if level_cm == 0 else "top",
            fontsize=7.5,
            color=_OUTLINE,
        )
    ax.plot([centre_cm, centre_cm], [0, length], color=_OUTLINE, lw=0.6, ls=(0, (4, 3)), zorder=4)
    regions = head_regions(anatomy, zones=zones)
    used = {s.head for s in sites} | {MuscleHead.GM_MEDIAL, MuscleHead.GM_LATERAL}
    for head in (MuscleHead.SOLEUS, MuscleHead.GM_LATERAL, MuscleHead.GM_MEDIAL):
        if head in used:
            _draw_head(ax, regions[head], zones, x_of)
    # No-go zones: popliteal band, midline strip (sural nerve, small saphenous vein).
    band = levels <= zones.popliteal_margin_cm
    band_levels = np.append(levels[band], zones.popliteal_margin_cm)
    band_r = np.interp(band_levels, levels, radius)
    ax.add_patch(
        Polygon(
            np.column_stack(
                [
                    np.concatenate([centre_cm - band_r, (centre_cm + band_r)[::-1]]),
                    np.concatenate([band_levels, band_levels[::-1]]),
                ]
            ),
            closed=True,
            facecolor="none",
            edgecolor=_NOGO,
            hatch="////",
            lw=0,
            zorder=3,
        )
    )
    strip = _projected_cm(zones.midline_margin_cm, radius)
    ax.add_patch(
        Polygon(
            np.column_stack(
                [
                    np.concatenate([centre_cm - strip, (centre_cm + strip)[::-1]]),
                    np.concatenate([levels, levels[::-1]]),
                ]
            ),
            closed=True,
            facecolor="none",
            edgecolor=_NOGO,
            hatch="////",
            lw=0,
            zorder=3,
        )
    )
    # Side and orientation labels.
    r_max = float(radius.max())
    ax.text(
        centre_cm,
        -2.0,
        f"{side.value.upper()} LEG",
        ha="center",
        va="bottom",
        fontsize=11,
        weight="bold",
    )
    for sign, word in ((medial, "medial"), (-medial, "lateral")):
        ax.text(
            centre_cm + sign * (r_max + 0.9),
            anatomy.calf_level_cm,
            word,
            rotation=90,
            ha="center",
            va="center",
            fontsize=8,
            style="italic",
            color="#555555",
        )
    for site in sites:
        _draw_site(ax, site, x_of)


def _draw_head(
    ax: Axes,
    region: HeadRegion,
    zones: SafeZones,
    x_of: XOf,
) -> None:
    levels = np.asarray(region.outline_levels_cm, dtype=np.float64)
    width = np.asarray(region.outline_width_cm, dtype=np.float64)
    fill, edge, _ = _HEAD_STYLE[region.head]
    directions = (1.0, -1.0) if region.direction == 0 else (float(region.direction),)
    start = region.top_cm if region.head is MuscleHead.SOLEUS else 0.0
    keep = levels >= start
    levels, width = levels[keep], width[keep]
    if region.head is MuscleHead.SOLEUS:
        levels = np.insert(levels, 0, start)
        width = np.insert(width, 0, region.width_at_cm(start))
    for direction in directions:
        outer = x_of(direction * width, levels)
        inner = x_of(np.zeros_like(levels), levels)
        ax.add_patch(
            Polygon(
                np.column_stack(
                    [np.concatenate([outer, inner[::-1]]), np.concatenate([levels, levels[::-1]])]
                ),
                closed=True,
                facecolor=fill,
                edgecolor=edge,
                lw=0.8,
                alpha=0.85,
                zorder=2,
            )
        )
        # Below the junction margin: the belly's thin end and the tendon.
        below = levels >= region.end_cm - zones.junction_margin_cm
        if np.any(below):
            lv = np.insert(levels[below], 0, region.end_cm - zones.junction_margin_cm)
            wd = np.interp(lv, levels, width)
            out = x_of(direction * wd, lv)
            inn = x_of(np.zeros_like(lv), lv)
            ax.add_patch(
                Polygon(
                    np.column_stack(
                        [np.concatenate([out, inn[::-1]]), np.concatenate([lv, lv[::-1]])]
                    ),
                    closed=True,
                    facecolor="none",
                    edgecolor=_NOGO,
                    hatch="\\\\\\\\",
                    lw=0,
                    zorder=3,
                )
            )


def _draw_site(ax: Axes, site: InjectionSite, x_of: XOf) -> None:
    x = float(x_of(site.offset_from_midline_cm, site.level_below_knee_cm))
    z = site.level_below_knee_cm
    _, edge, _ = _HEAD_STYLE[site.head]
    ax.plot(
        [x],
        [z],
        marker="o",
        ms=12,
        mfc=edge,
        mec="white",
        mew=1.0,
        zorder=6,
        gid=f"site-{site.side.value}-{site.index}",
    )
    ax.text(
        x,
        z,
        str(site.index),
        ha="center",
        va="center",
        fontsize=6.5,
        color="white",
        weight="bold",
        zorder=7,
    )
    ax.text(
        x,
        z + 0.55,
        f"{round(site.units_u, 1):g} U",
        ha="center",
        va="top",
        fontsize=6.5,
        color="black",
        zorder=7,
        bbox={"boxstyle": "round,pad=0.08", "fc": "white", "ec": "none", "alpha": 0.8},
    )


def _legend(fig: Figure, heads: set[MuscleHead], zones: SafeZones, *, top: float) -> None:
    handles: list[Patch | Line2D] = []
    for head in (MuscleHead.GM_MEDIAL, MuscleHead.GM_LATERAL, MuscleHead.SOLEUS):
        if head in heads:
            fill, edge, label = _HEAD_STYLE[head]
            handles.append(Patch(facecolor=fill, edgecolor=edge, label=label))
    handles.append(
        Patch(
            facecolor="white",
            edgecolor=_NOGO,
            hatch="////",
            label=(
                f"no-go: popliteal band ({zones.popliteal_margin_cm:g} cm), midline strip "
                f"(±{zones.midline_margin_cm:g} cm)"
            ),
        )
    )
    handles.append(
        Patch(
            facecolor="white",
            edgecolor=_NOGO,
            hatch="\\\\\\\\",
            label=f"no-go: last {zones.junction_margin_cm:g} cm above the tendon junction",
        )
    )
    handles.append(
        Line2D(
            [],
            [],
            marker="o",
            ls="none",
            ms=9,
            mfc="#555555",
            mec="white",
            label=f"numbered site with its units (≥ {zones.min_spacing_cm:g} cm apart)",
        )
    )
    fig.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, top),
        ncol=2,
        fontsize=7.5,
        frameon=False,
        handlelength=2.2,
    )


def _site_rows(sites: tuple[InjectionSite, ...]) -> tuple[list[str], list[list[str]]]:
    """Column labels and rows of a leg's table: one row per site, or per head if crowded."""
    if len(sites) <= _MAX_TABLE_ROWS:
        header = ["#", "head", "level cm", "midline cm", "depth mm", "units", "mL"]
        rows = [
            [
                str(s.index),
                _SHORT[s.head],
                f"{s.level_below_knee_cm:.1f}",
                f"{abs(s.offset_from_midline_cm):.1f} "
                f"{'M' if s.offset_from_midline_cm > 0 else 'L'}",
                f"{s.depth_mm:.0f}",
                f"{round(s.units_u, 1):g} U",
                f"{s.volume_ml:.2f}",
            ]
            for s in sites
        ]
        return header, rows
    header = ["head", "sites", "levels cm", "depth mm", "U per site", "units", "mL"]
    rows = []
    for head in (MuscleHead.GM_MEDIAL, MuscleHead.GM_LATERAL, MuscleHead.SOLEUS):
        group = [s for s in sites if s.head is head]
        if not group:
            continue
        levels = [s.level_below_knee_cm for s in group]
        depths = [s.depth_mm for s in group]
        units = [s.units_u for s in group]
        rows.append(
            [
                _SHORT[head],
                str(len(group)),
                _span(levels, "{:.0f}"),
                _span(depths, "{:.0f}"),
                _span(units, "{:.1f}"),
                f"{sum(units):g} U",
                f"{sum(s.volume_ml for s in group):.2f}",
            ]
        )
    return header, rows


def _tables(
    fig: Figure,
    legs: Sequence[tuple[Side, LegAnatomy, tuple[InjectionSite, ...]]],
    *,
    bottom: float,
    n_rows: int,
) -> None:
    """One table per leg, side by side under the drawing, ``n_rows`` rows high (+ header)."""
    row = _ROW_IN / _PAGE_IN[1]
    height = row * (n_rows + 1)
    starts = {Side.LEFT: 0.05, Side.RIGHT: 0.53}
    for side, _, sites in legs:
        start = 0.29 if len(legs) == 1 else starts[side]
        ax = fig.add_axes((start, bottom, 0.42, height))
        ax.axis("off")
        total_u = sum(s.units_u for s in sites)
        total_ml = sum(s.volume_ml for s in sites)
        ax.set_title(
            f"{side.value.capitalize()} leg: {len(sites)} sites, {round(total_u, 1):g} U, "
            f"{total_ml:.2f} mL",
            fontsize=9,
            weight="bold",
            loc="left",
        )
        if not sites:
            ax.text(0, 0.95, "no injections", fontsize=8, va="top")
            continue
        header, rows = _site_rows(sites)
        frac = (len(rows) + 1) / (n_rows + 1)
        table = ax.table(
            cellText=rows,
            colLabels=header,
            cellLoc="center",
            colWidths=[0.08, 0.11, 0.16, 0.18, 0.16, 0.16, 0.15],
            bbox=Bbox.from_bounds(0.0, 1.0 - frac, 1.0, frac),
        )
        table.auto_set_font_size(False)
        table.set_fontsize(7)
        per_site = header[0] == "#"
        for (r, c), cell in table.get_celld().items():
            cell.set_edgecolor("#bbbbbb")
            cell.set_linewidth(0.5)
            if r == 0:
                cell.set_facecolor("#eeeeee")
                cell.set_text_props(weight="bold")
            elif c == (1 if per_site else 0):
                head = sites[r - 1].head if per_site else _head_of(rows[r - 1][0])
                cell.set_text_props(color=_HEAD_STYLE[head][1], weight="bold")


def _span(values: Sequence[float], fmt: str) -> str:
    low, high = fmt.format(min(values)), fmt.format(max(values))
    return low if low == high else f"{low}-{high}"


def _head_of(short: str) -> MuscleHead:
    return next(h for h, name in _SHORT.items() if name == short)

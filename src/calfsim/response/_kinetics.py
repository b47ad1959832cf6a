r"""Dose → block → atrophy kinetics, vectorised over Monte Carlo rows.

Equations (time :math:`t` in days, session :math:`k` at :math:`t_k` with block amplitude
:math:`B_k`):

.. math::

    B_k = \frac{(d_k s)^h}{\mathrm{ED}_{50}^h + (d_k s)^h}, \qquad
    b_k(t) = B_k \left(1 - e^{-(t-t_k)/\tau_{on}}\right) e^{-(t-t_k)/(\tau_{off} m^{k-1})}

    f(t) = 1 - \prod_k \left(1 - b_k(t)\right)

    \frac{da}{dt} = f \frac{A_{max} - a}{\tau_{atr}} - (1 - f)\frac{a}{\tau_{reg}}

with :math:`d_k` the dose density (U/cm³), :math:`s` the individual sensitivity and :math:`a`
the fractional cross-section loss of the head. Sessions act on the fibres that are still
unblocked (the product form), which keeps :math:`f` in [0, 1) without clipping; for a single
session it equals the evidence §8.1 form.

The atrophy equation is linear in :math:`a` for a given :math:`f`; it is integrated exactly over
each step with :math:`f` held at its mid-step value (an exponential integrator), so the solution
is stable for any step and never leaves :math:`[0, A_{max}]`.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "block_amplitude_frac",
    "integration_grid_days",
    "iter_atrophy_frac",
    "simulate_atrophy_frac",
]

FloatArray = NDArray[np.float64]


def block_amplitude_frac(
    dose_density_u_per_cm3: FloatArray, *, ed50_u_per_cm3: FloatArray, hill_ratio: FloatArray
) -> FloatArray:
    r"""Fraction of fibres a session can block, :math:`B = d^h / (ED_{50}^h + d^h)`.

    Parameters
    ----------
    dose_density_u_per_cm3 : ndarray
        OnabotulinumtoxinA-equivalent units per cm³ of the head (already times the individual
        sensitivity); broadcast against the parameters.
    ed50_u_per_cm3, hill_ratio : ndarray
        Dose density for half block, and the Hill exponent.

    Returns
    -------
    ndarray
        Values in [0, 1); zero exactly where the dose is zero.

    Examples
    --------
    >>> float(block_amplitude_frac(np.array(0.3), ed50_u_per_cm3=np.array(0.3),
    ...                            hill_ratio=np.array(1.0)))
    0.5
    """
    d = np.maximum(dose_density_u_per_cm3, 0.0)
    ratio = (d / ed50_u_per_cm3) ** hill_ratio
    return np.asarray(ratio / (1.0 + ratio), dtype=np.float64)


def integration_grid_days(
    session_days: FloatArray,
    t_end_days: float,
    *,
    daily_days: float = 7.0,
    fine_days: float = 42.0,
    fine_step_days: float = 3.0,
    coarse_step_days: float = 7.0,
) -> FloatArray:
    """Time grid: daily for a week after each session, every 3 days to 6 weeks, else weekly.

    The block changes fast only during its onset (time constant about 5 days); elsewhere every
    time constant is weeks to months, so weekly exact-exponential steps lose almost nothing
    (girth within 0.02 cm of a daily grid, tested). Daily steps for the whole 6 weeks were
    measured no more accurate (0.010 cm vs 0.009 cm of a daily grid, two sessions, 500
    patients) at 130 instead of 90 points for 400 days.

    Examples
    --------
    >>> g = integration_grid_days(np.array([0.0]), 60.0)
    >>> g[:10].tolist(), g[-3:].tolist()
    ([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 10.0, 13.0], [49.0, 56.0, 60.0])
    """
    points = [np.arange(0.0, t_end_days, coarse_step_days), np.array([0.0, t_end_days])]
    for day in session_days:
        if day <= t_end_days:
            points.append(np.arange(day, min(day + daily_days, t_end_days) + 1.0))
            stop = min(day + fine_days, t_end_days) + 1.0
            points.append(np.arange(day + daily_days, stop, fine_step_days))
    grid = np.unique(np.concatenate(points))
    return np.asarray(grid[grid <= t_end_days], dtype=np.float64)


_CHUNK_VALUES = 65_536  # values per work buffer of iter_atrophy_frac when not given


def iter_atrophy_frac(
    t_days: FloatArray,
    session_days: FloatArray,
    amplitude_frac: FloatArray,
    *,
    tau_on_days: FloatArray,
    tau_off_days: FloatArray,
    repeat_slowing_ratio: FloatArray,
    tau_atr_days: FloatArray,
    tau_reg_days: FloatArray,
    a_max_frac: FloatArray,
    chunk_steps: int | None = None,
) -> Iterator[tuple[int, NDArray[np.float32]]]:
    """Integrate block and atrophy chunk by chunk of the time grid (bounded memory).

    Parameters are those of `simulate_atrophy_frac`. Yields ``(i0, atrophy)`` where ``atrophy``
    has shape (n_steps, n_heads, n_rows) and holds :math:`a` at ``t_days[i0 : i0 + n_steps]``.
    The yielded array is a reused float32 buffer: consume (or copy) it before advancing.
    ``chunk_steps`` defaults to 8 to 32 steps, about 64k values per buffer: few patients get
    longer chunks (each NumPy call has a fixed cost, which dominates at API sizes), many get
    short ones (the buffers stay in cache).
    """
    t = np.asarray(t_days, dtype=np.float64)
    n_t = t.size
    n_sessions, n_heads, n_rows = amplitude_frac.shape
    if chunk_steps is None:
        chunk_steps = min(32, max(8, _CHUNK_VALUES // max(n_heads * n_rows, 1)))
    shape = (chunk_steps, n_heads, n_rows)
    # float32 work buffers, allocated once and reused: memory traffic and first-touch page
    # faults cost more than the arithmetic here, and 7 significant digits are plenty for
    # fractions reported to 1%.
    f32 = np.float32
    atrophy = np.zeros(shape, dtype=f32)
    f = np.empty(shape, dtype=f32)
    decay = np.empty(shape, dtype=f32)
    w = np.empty(shape, dtype=f32)
    state = np.zeros((n_heads, n_rows), dtype=f32)
    if n_t == 0:
        return
    yield 0, atrophy[:1]
    # Recovery of the block slows with each session the same head has received
    # (Rogozhin 2008): tau_off of session k is tau_off * m^(count - 1).
    is_dosed = amplitude_frac.reshape(n_sessions, n_heads, -1).max(axis=2) > 0
    received = np.cumsum(is_dosed, axis=0)
    amp = amplitude_frac.astype(f32)
    neg_inv_on = (-1.0 / tau_on_days).astype(f32)
    gain = (a_max_frac / tau_atr_days).astype(f32)
    inv_reg = (1.0 / tau_reg_days).astype(f32)
    slope = (1.0 / tau_atr_days - 1.0 / tau_reg_days).astype(f32)
    neg_inv_off = {
        int(c): (-1.0 / (tau_off_days * repeat_slowing_ratio ** (c - 1))).astype(f32)
        for c in np.unique(received[is_dosed])
    }
    # The heads each session doses, grouped by how many sessions they have had (heads in a
    # group share the block's time course): usually one group per session.
    groups = [
        [
            (int(c), np.flatnonzero(is_dosed[k] & (received[k] == c)))
            for c in np.unique(received[k][is_dosed[k]])
        ]
        for k in range(n_sessions)
    ]
    for c0 in range(1, n_t, chunk_steps):
        c1 = min(c0 + chunk_steps, n_t)
        m = c1 - c0
        mid = (0.5 * (t[c0 - 1 : c1 - 1] + t[c0:c1])).astype(f32)[:, None]
        step = (t[c0:c1] - t[c0 - 1 : c1 - 1]).astype(f32)[:, None, None]
        fm, dm, wm = f[:m], decay[:m], w[:m]
        # Sessions act on the fibres still unblocked: (1 - f) = prod_k (1 - B_k g_k).
        unblocked = dm
        unblocked.fill(1.0)
        for k in range(n_sessions):
            if mid[-1, 0] <= session_days[k]:
                break
            dt = np.maximum(mid - f32(session_days[k]), f32(0.0))
            onset = np.multiply(dt, neg_inv_on)
            # onset = -(1 - exp(-dt/tau_on)); exp - 1 rather than expm1: NumPy's float32 expm1
            # is scalar code (4x the cost of exp here) and float32 exp - 1 is within 1e-7 of it
            np.exp(onset, out=onset)
            onset -= f32(1.0)
            for count, heads in groups[k]:
                # g_k(t) = (1 - exp(-dt/tau_on)) exp(-dt/tau_off,k), shared by these heads
                g = np.multiply(dt, neg_inv_off[count])
                np.exp(g, out=g)
                g *= onset
                # kept = 1 - B g for each head of the group (g holds -g here)
                kept = np.multiply(g[:, None, :], amp[k, heads][None, :, :])
                kept += f32(1.0)
                if heads.size == n_heads:
                    unblocked *= kept
                else:
                    unblocked[:, heads] *= kept
        np.subtract(f32(1.0), unblocked, out=fm)
        # rate = f/tau_atr + (1-f)/tau_reg = f*slope + inv_reg ; decay = exp(-step*rate)
        np.multiply(fm, slope, out=dm)
        dm += inv_reg
        # w = target (1 - decay) with target = f A_max / (tau_atr rate)
        np.divide(fm, dm, out=wm)
        wm *= gain
        dm *= -step
        np.exp(dm, out=dm)
        np.subtract(f32(1.0), dm, out=fm)
        wm *= fm
        am = atrophy[:m]
        previous = state
        for j in range(m):
            np.multiply(previous, dm[j], out=am[j])
            am[j] += wm[j]
            previous = am[j]
        state[...] = previous
        yield c0, am


def simulate_atrophy_frac(
    t_days: FloatArray,
    session_days: FloatArray,
    amplitude_frac: FloatArray,
    *,
    tau_on_days: FloatArray,
    tau_off_days: FloatArray,
    repeat_slowing_ratio: FloatArray,
    tau_atr_days: FloatArray,
    tau_reg_days: FloatArray,
    a_max_frac: FloatArray,
) -> FloatArray:
    """Integrate block and atrophy on a time grid for many heads and virtual patients at once.

    Parameters
    ----------
    t_days : ndarray, shape (n_t,)
        Increasing time grid (days since day 0), starting at or before the first session.
    session_days : ndarray, shape (n_sessions,)
        Days of the sessions, increasing.
    amplitude_frac : ndarray, shape (n_sessions, n_heads, n_rows)
        Block amplitude :math:`B_k` of every session for every head and virtual patient (0
        where a head got no dose).
    tau_on_days, tau_off_days, repeat_slowing_ratio, tau_atr_days, tau_reg_days, a_max_frac
        Parameters of each virtual patient, shape (n_rows,), shared by its heads.

    Returns
    -------
    ndarray, shape (n_heads, n_rows, n_t)
        Fractional cross-section loss :math:`a(t)`; 0 at ``t_days[0]``.

    Examples
    --------
    >>> t = np.arange(0.0, 365.0)
    >>> one = np.ones(1)
    >>> a = simulate_atrophy_frac(t, np.zeros(1), np.full((1, 1, 1), 0.5),
    ...     tau_on_days=5.25 * one, tau_off_days=42 * one, repeat_slowing_ratio=one,
    ...     tau_atr_days=38.5 * one, tau_reg_days=210 * one, a_max_frac=0.8 * one)
    >>> round(float(a.max()), 2), int(a[0, 0].argmax()) // 7
    (0.22, 12)
    """
    _n_sessions, n_heads, n_rows = amplitude_frac.shape
    out = np.empty((len(t_days), n_heads, n_rows))
    for i0, chunk in iter_atrophy_frac(
        t_days,
        session_days,
        amplitude_frac,
        tau_on_days=tau_on_days,
        tau_off_days=tau_off_days,
        repeat_slowing_ratio=repeat_slowing_ratio,
        tau_atr_days=tau_atr_days,
        tau_reg_days=tau_reg_days,
        a_max_frac=a_max_frac,
    ):
        out[i0 : i0 + chunk.shape[0]] = chunk
    return out.transpose(1, 2, 0)

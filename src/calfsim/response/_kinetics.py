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

__all__ = ["block_amplitude_frac", "iter_atrophy_frac", "simulate_atrophy_frac"]

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
    chunk_steps: int = 32,
) -> Iterator[tuple[int, FloatArray]]:
    """Integrate block and atrophy chunk by chunk of the time grid (bounded memory).

    Parameters are those of `simulate_atrophy_frac`. Yields ``(i0, atrophy)`` where ``atrophy``
    has shape (n_steps, n_heads, n_rows) and holds :math:`a` at ``t_days[i0 : i0 + n_steps]``.
    The yielded array is a reused buffer: consume (or copy) it before advancing.
    """
    t = np.asarray(t_days, dtype=np.float64)
    n_t = t.size
    n_sessions, n_heads, n_rows = amplitude_frac.shape
    shape = (chunk_steps, n_heads, n_rows)
    # Work buffers are allocated once and reused: first-touch page faults of fresh arrays
    # cost more than the arithmetic here.
    atrophy = np.zeros(shape)
    f = np.empty(shape)
    decay = np.empty(shape)
    w = np.empty(shape)
    profile = np.empty((chunk_steps, n_rows))
    scratch = np.empty((chunk_steps, n_rows))
    state = np.zeros((n_heads, n_rows))
    if n_t == 0:
        return
    atrophy[0] = 0.0
    yield 0, atrophy[:1]
    # Recovery of the block slows with each session a leg has received (Rogozhin 2008).
    received = np.cumsum(amplitude_frac.max(axis=1) > 0, axis=0)
    inv_off_k = 1.0 / (
        tau_off_days[None, :] * repeat_slowing_ratio[None, :] ** np.maximum(received - 1, 0)
    )
    inv_on = 1.0 / tau_on_days
    gain = a_max_frac / tau_atr_days
    inv_reg = 1.0 / tau_reg_days
    slope = 1.0 / tau_atr_days - inv_reg
    for c0 in range(1, n_t, chunk_steps):
        c1 = min(c0 + chunk_steps, n_t)
        m = c1 - c0
        mid = 0.5 * (t[c0 - 1 : c1 - 1] + t[c0:c1])[:, None]
        step = (t[c0:c1] - t[c0 - 1 : c1 - 1])[:, None, None]
        fm, dm, wm, pm, sm = f[:m], decay[:m], w[:m], profile[:m], scratch[:m]
        fm.fill(0.0)
        for k in range(n_sessions):
            if mid[-1, 0] <= session_days[k]:
                break
            dt = np.maximum(mid - float(session_days[k]), 0.0)
            # g_k(t) = (1 - exp(-dt/tau_on)) exp(-dt/tau_off_k), shared by the heads
            np.multiply(dt, -inv_on, out=pm)
            np.expm1(pm, out=pm)
            np.negative(pm, out=pm)
            np.multiply(dt, -inv_off_k[k], out=sm)
            np.exp(sm, out=sm)
            pm *= sm
            for h in range(n_heads):
                # f <- f + b (1 - f), b = B g: sessions act on the still unblocked fibres
                b = pm * amplitude_frac[k, h]
                fh = fm[:, h]
                b *= 1.0 - fh
                fh += b
        # rate = f/tau_atr + (1-f)/tau_reg; decay = exp(-step rate)
        np.multiply(fm, slope, out=dm)
        dm += inv_reg
        # w = target (1 - decay) with target = f A_max / (tau_atr rate)
        np.divide(fm, dm, out=wm)
        wm *= gain
        dm *= -step
        np.exp(dm, out=dm)
        np.subtract(1.0, dm, out=fm)
        wm *= fm
        am = atrophy[:m]
        for j in range(m):
            np.multiply(state, dm[j], out=state)
            state += wm[j]
            am[j] = state
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

"""CPU-heavy work (3D simulations, scans, PDFs) in worker threads, capped and queued.

Each such call takes seconds of one core. At most ``max_concurrent_simulations`` run at
once and ``max_queued_simulations`` more may wait; beyond that the answer is 503 with
``Retry-After`` rather than an ever longer wait.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request

from calfsim.web._errors import WebError
from calfsim.web._pool import ComputePool, ComputeProcessDied

__all__ = ["heavy_limiter", "run_compute", "run_heavy"]

T = TypeVar("T")


class _Queue:
    """Count of heavy calls running or waiting (only touched on the event loop)."""

    def __init__(self) -> None:
        self.waiting = 0


def heavy_limiter(app: FastAPI) -> tuple[anyio.CapacityLimiter, _Queue]:
    """Return the app's limiter of CPU-heavy calls (3D simulations, scans) and its queue."""
    limiter: anyio.CapacityLimiter | None = getattr(app.state, "heavy_limiter", None)
    if limiter is None:
        limiter = anyio.CapacityLimiter(app.state.settings.max_concurrent_simulations)
        app.state.heavy_limiter = limiter
        app.state.heavy_queue = _Queue()
    queue: _Queue = app.state.heavy_queue
    return limiter, queue


async def run_heavy(request: Request, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a CPU-heavy call in a worker thread under the app's concurrency cap.

    Raises
    ------
    WebError
        503 with ``Retry-After`` when the queue is full.
    """
    limiter, queue = heavy_limiter(request.app)
    settings = request.app.state.settings
    if queue.waiting >= settings.max_concurrent_simulations + settings.max_queued_simulations:
        raise WebError(
            503,
            "busy",
            "the server is busy with other heavy work (3D simulations, scans, PDFs); try again "
            "in a few seconds",
            headers={"Retry-After": "5"},
        )
    queue.waiting += 1
    try:
        return await anyio.to_thread.run_sync(lambda: func(*args, **kwargs), limiter=limiter)
    finally:
        queue.waiting -= 1


async def run_compute(
    request: Request,
    func: Callable[..., T],
    *args: Any,
    inline: bool = False,
    portable: bool = False,
    **kwargs: Any,
) -> T:
    """Run a short CPU-bound call (a prediction, a plan), by default in a worker thread.

    At most ``max_concurrent_computations`` run at once in this process (default 2, the
    cores of these machines); the others wait in order instead of all sharing the cores and
    the GIL and finishing late together. ``calfsim serve --workers`` adds processes.

    ``portable=True`` (``func`` a module-level function, the arguments plain data) sends the
    call to the app's computing processes when it has them (``compute_processes``, see
    `calfsim.web._pool`); they take calls in arrival order.

    ``inline=True`` runs the call on the event loop otherwise: for calls of a few
    milliseconds, where the hand-over to a thread and the GIL hand-offs between the loop and
    the thread cost ~10 % of the call (docs/benchmarks.md). Other requests of this process
    wait that long; the caller decides what is short.

    Raises
    ------
    WebError
        503 with ``Retry-After`` if a computing process died during the call (it is
        replaced; the next call works).
    """
    pool: ComputePool | None = getattr(request.app.state, "compute_pool", None)
    if portable and pool is not None and not pool.broken:
        try:
            result: T = await pool.submit(func, *args, **kwargs)
        except ComputeProcessDied:
            raise WebError(
                503,
                "busy",
                "a computing process of the server stopped; try again in a moment",
                headers={"Retry-After": "1"},
            ) from None
        return result
    if inline:
        return func(*args, **kwargs)
    limiter: anyio.CapacityLimiter | None = getattr(request.app.state, "compute_limiter", None)
    if limiter is None:
        limiter = anyio.CapacityLimiter(request.app.state.settings.max_concurrent_computations)
        request.app.state.compute_limiter = limiter
    return await anyio.to_thread.run_sync(lambda: func(*args, **kwargs), limiter=limiter)

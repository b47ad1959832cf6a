"""Processes that compute the JSON API's predictions and plans (``compute_processes``).

A prediction is a few milliseconds of Python and NumPy, held by the GIL: one process computes
one at a time. ``calfsim serve --workers N`` runs N whole servers, but each keeps the
connections it accepted, so with long-lived keep-alive clients one may hold 12 of 20 clients
and the other 8, and the busier one's clients wait half as long again (measured,
docs/benchmarks.md). A pool of N computing processes behind one server instead takes every
request in arrival order and hands it to the first free process: all clients wait alike.

Why not ``concurrent.futures.ProcessPoolExecutor``: it moves every call through queues served
by two helper threads in the server process, whose hand-offs compete for the GIL with the
event loop; measured, that cost ~1.5 ms of CPU per prediction (a quarter of the prediction
itself). Here each computing process has a pipe watched by the event loop itself
(``loop.add_reader``): a call is one pickled message each way, no thread involved.

The processes are forked from a *forkserver* that has imported the prediction code (a process
starts in a fraction of a second, with none of the server's threads copied into it), and each
warms up with one prediction of the example protocol, so a client's first request costs no
more than the next. Work sent here must be picklable: module-level functions and plain data
(the JSON body), never the request. A process that dies (killed, out of memory) fails its
call with `ComputeProcessDied` and is replaced.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import multiprocessing
import pickle
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["ComputePool", "ComputeProcessDied"]

log = logging.getLogger(__name__)

_PRELOAD = ["calfsim.web._api", "calfsim.simulation", "calfsim.planner"]
_STOP = b""
_EARLY_S = 30.0  # a process that dies this soon, before any answer, "died at start"
_MAX_EARLY_DEATHS = 3


class ComputeProcessDied(RuntimeError):
    """The process computing a call stopped before answering."""


def _warm_up(n_samples: int) -> None:
    """Import and predict once (fills the per-seed caches) before the first real call."""
    from calfsim.web._api import PROTOCOL_EXAMPLE, predict_dict

    try:
        predict_dict(PROTOCOL_EXAMPLE, n_samples=n_samples, seed=1, profile=False)
    except Exception:  # a warm-up must never keep the process from serving
        log.exception("warm-up prediction failed")


def _serve(conn: Connection, warm_n_samples: int) -> None:  # pragma: no cover (child process)
    """Answer ``(func, args, kwargs)`` messages until told to stop (a computing process)."""
    _warm_up(warm_n_samples)
    while True:
        try:
            message = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if message == _STOP:
            return
        func, args, kwargs = pickle.loads(message)
        try:
            reply = (True, func(*args, **kwargs))
        except Exception as exc:
            reply = (False, exc)
        try:
            data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an unpicklable result or error: say so, keep serving
            data = pickle.dumps((False, RuntimeError(f"cannot return the result: {exc}")))
        conn.send_bytes(data)


class _Worker:
    def __init__(self, context: Any, warm_n_samples: int) -> None:
        self.started_s = time.monotonic()
        self.answered = False
        self.conn, child = context.Pipe(duplex=True)
        self.process = context.Process(
            target=_serve, args=(child, warm_n_samples), name="calfsim-compute", daemon=True
        )
        self.process.start()
        child.close()
        self.future: asyncio.Future[Any] | None = None


class ComputePool:
    """Computing processes fed in arrival order from the event loop (create it on the loop).

    Parameters
    ----------
    n_processes : int
        Processes (one per core to use).
    warm_n_samples : int
        Virtual patients of each process's warm-up prediction (the server's default).
    """

    def __init__(self, n_processes: int, *, warm_n_samples: int) -> None:
        self._loop = asyncio.get_running_loop()
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(_PRELOAD)
        self._warm_n_samples = warm_n_samples
        self._waiting: collections.deque[tuple[bytes, asyncio.Future[Any]]] = collections.deque()
        self._idle: list[_Worker] = []
        self._workers: list[_Worker] = []
        self._closed = False
        self._early_deaths = 0
        self.broken = False
        """True once processes kept dying at start: the caller should compute elsewhere."""
        for _ in range(n_processes):
            self._start_worker()

    def _start_worker(self) -> None:
        worker = _Worker(self._context, self._warm_n_samples)
        self._workers.append(worker)
        self._loop.add_reader(worker.conn.fileno(), self._on_readable, worker)
        self._idle.append(worker)
        self._dispatch()

    def submit(self, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        """Schedule ``func(*args, **kwargs)``; the future has its result or its exception."""
        if self._closed:
            raise RuntimeError("the compute pool is closed")
        future: asyncio.Future[Any] = self._loop.create_future()
        message = pickle.dumps((func, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        self._waiting.append((message, future))
        self._dispatch()
        return future

    def _dispatch(self) -> None:
        while self._idle and self._waiting:
            message, future = self._waiting.popleft()
            if future.cancelled():
                continue
            worker = self._idle.pop()
            worker.future = future
            try:
                worker.conn.send_bytes(message)
            except OSError:
                self._replace(worker)

    def _on_readable(self, worker: _Worker) -> None:
        try:
            ok, value = pickle.loads(worker.conn.recv_bytes())
        except (EOFError, OSError):
            self._replace(worker)
            return
        future, worker.future = worker.future, None
        worker.answered = True
        self._early_deaths = 0
        self._idle.append(worker)
        if future is not None and not future.done():
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        self._dispatch()

    def _replace(self, worker: _Worker) -> None:
        """Fail the dead process's call, forget it and start another."""
        self._forget(worker)
        worker.process.join(0.5)  # its pipe closed: it is exiting; reap it for its exit code
        code = worker.process.exitcode
        log.warning("a computing process stopped (exit code %s): starting another", code)
        if worker.future is not None and not worker.future.done():
            worker.future.set_exception(
                ComputeProcessDied(f"the computing process stopped (exit code {code})")
            )
        if not worker.answered and time.monotonic() - worker.started_s < _EARLY_S:
            self._early_deaths += 1
        if self._early_deaths >= _MAX_EARLY_DEATHS:
            # Something stops every new process (a broken installation, no memory): stop
            # trying, and let the server compute in its own process.
            log.error("computing processes keep stopping at start: computing in the server")
            self.broken = True
            self.close()
        elif not self._closed:
            self._start_worker()

    def _forget(self, worker: _Worker) -> None:
        self._loop.remove_reader(worker.conn.fileno())
        if worker in self._workers:
            self._workers.remove(worker)
        if worker in self._idle:
            self._idle.remove(worker)
        worker.conn.close()

    @property
    def pids(self) -> list[int]:
        """Process ids of the computing processes (for tests and monitoring)."""
        return [w.process.pid for w in self._workers if w.process.pid is not None]

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop the processes; calls not answered yet fail with `ComputeProcessDied`."""
        self._closed = True
        workers = list(self._workers)
        for worker in workers:
            try:
                worker.conn.send_bytes(_STOP)
            except OSError:
                pass
            self._forget(worker)
            if worker.future is not None and not worker.future.done():
                worker.future.set_exception(ComputeProcessDied("the server is stopping"))
        for _, future in self._waiting:
            if not future.done():
                future.set_exception(ComputeProcessDied("the server is stopping"))
        self._waiting.clear()
        for worker in workers:
            worker.process.join(timeout_s)
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join(timeout_s)

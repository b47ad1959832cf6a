"""Load test of ``POST /api/predict``: 20 concurrent clients against a real server.

Starts ``calfsim serve`` in a subprocess (SQLite in a temporary folder), waits until it
answers, warms it up, then lets ``--clients`` clients send requests (a closed loop: each
client sends its next request when the previous one is answered, at once or after
``--think-ms`` on average) until ``--requests`` have been answered. Every request carries a
different protocol (random calf girths and doses around the shipped example), so nothing can
be answered from a cache.
Prints the latency percentiles and the throughput of each run, and the median over runs.

Usage::

    .venv/bin/python benchmarks/load_api.py                       # the defaults below
    .venv/bin/python benchmarks/load_api.py --samples 1000 --profile --workers 2 --runs 5

Never part of ``make test`` (timing depends on the machine and what else runs on it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = json.loads((ROOT / "examples" / "protocol.json").read_text())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _protocols(n: int, rng: random.Random) -> list[bytes]:
    bodies = []
    for _ in range(n):
        p = json.loads(json.dumps(EXAMPLE))
        p["legs"]["left"]["calf_girth_cm"] = round(rng.uniform(32, 42), 1)
        p["legs"]["right"]["calf_girth_cm"] = round(rng.uniform(32, 42), 1)
        p["sessions"][0]["doses_u"] = {
            "left": {"gm_medial": rng.randrange(20, 61, 5), "gm_lateral": rng.randrange(10, 41, 5)},
            "right": rng.randrange(40, 101, 5),
        }
        bodies.append(json.dumps(p).encode())
    return bodies


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


class _RawConnection:
    """One keep-alive HTTP/1.1 connection on asyncio streams: a lean load generator.

    httpx costs the load generator ~1.9 ms of CPU per request, taken from the two cores the
    server runs on; this costs a few tenths of that (like wrk or hey, which are written in C and
    Go for the same reason). It sends the same request bytes and checks the status line and the
    full body length (``content-length``) of every answer.
    """

    def __init__(self, host: str, port: int, path: str) -> None:
        self.host, self.port, self.path = host, port, path
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> str:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"POST {self.path} HTTP/1.1\r\nhost: {self.host}:{self.port}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        status = status_line.split(b" ", 2)[1].decode()
        length = None
        closing = False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and b"close" in value.lower():
                closing = True
        if length is None:
            raise ConnectionError("answer without content-length")
        await self.reader.readexactly(length)
        if closing:  # the server ends the connection: the next request opens a new one
            await self.close()
        return status

    async def close(self) -> None:
        if self.writer is not None:
            writer, self.reader, self.writer = self.writer, None, None
            writer.close()
            await writer.wait_closed()


async def _run(
    url: str,
    bodies: list[bytes],
    n_clients: int,
    n_requests: int,
    think_s: float = 0.0,
    *,
    client_kind: str = "raw",
) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    next_index = 0
    parsed = httpx.URL(url)
    target = parsed.raw_path.decode()
    limits = httpx.Limits(max_connections=n_clients, max_keepalive_connections=n_clients)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def one_client() -> None:
            nonlocal next_index
            raw = _RawConnection(parsed.host, parsed.port or 80, target)
            try:
                while next_index < n_requests:
                    body = bodies[next_index % len(bodies)]
                    next_index += 1
                    start = time.perf_counter()
                    try:
                        if client_kind == "raw":
                            status = await asyncio.wait_for(raw.post(body), 60)
                        else:
                            response = await client.post(
                                url, content=body, headers={"content-type": "application/json"}
                            )
                            status = str(response.status_code)
                    except (httpx.TransportError, OSError, TimeoutError) as exc:
                        status = type(exc).__name__  # counted, not fatal: the run goes on
                        await raw.close()
                        raw = _RawConnection(parsed.host, parsed.port or 80, target)
                    latencies.append(time.perf_counter() - start)
                    statuses[status] = statuses.get(status, 0) + 1
                    if think_s:
                        # A person reading the answer: random, so clients do not march in step.
                        await asyncio.sleep(random.uniform(0.5, 1.5) * think_s)
            finally:
                await raw.close()

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(n_clients)))
        elapsed = time.perf_counter() - started
    ms = [1000 * x for x in latencies]
    return {
        "n": len(ms),
        "statuses": statuses,
        "p50_ms": _percentile(ms, 50),
        "p95_ms": _percentile(ms, 95),
        "p99_ms": _percentile(ms, 99),
        "max_ms": max(ms),
        "requests_per_s": len(ms) / elapsed,
    }


def _cpu_s(pid: int) -> float:
    """CPU time (user + system) of a process and its children, from /proc (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    for parent in pids:  # grows while walking: children, grandchildren (computing processes)
        children = Path(f"/proc/{parent}/task/{parent}/children")
        if children.is_file():
            pids += [int(x) for x in children.read_text().split()]
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def _wait_until_up(base: str, server: subprocess.Popen[bytes], timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped (exit code {server.returncode})")
        try:
            if httpx.get(base + "/api/evidence?topic=response", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the server did not answer within {timeout_s:.0f} s")


def main() -> None:
    """Run the load test and print one JSON line per run plus a summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2000, help="per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=None, help="n_samples (server default)")
    parser.add_argument("--profile", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--compute-processes", type=int, default=None, help="calfsim serve --compute-processes"
    )
    parser.add_argument(
        "--think-ms",
        type=float,
        default=0.0,
        help="pause of each client between answer and next request (mean; 0: back to back)",
    )
    parser.add_argument("--url", default=None, help="an already running server instead")
    parser.add_argument(
        "--client",
        choices=("raw", "httpx"),
        default="raw",
        help="load generator: lean keep-alive HTTP/1.1 on asyncio streams, or httpx",
    )
    args = parser.parse_args()

    query = {}
    if args.samples is not None:
        query["n_samples"] = str(args.samples)
    if args.profile is not None:
        query["profile"] = str(args.profile).lower()
    bodies = _protocols(500, random.Random(7))
    server = None
    with tempfile.TemporaryDirectory(prefix="calfsim-load-") as folder:
        if args.url:
            base = args.url.rstrip("/")
        else:
            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            command = [
                str(Path(sys.executable).with_name("calfsim")),
                "serve",
                "--port",
                str(port),
                "--db",
                f"sqlite:///{folder}/load.sqlite3",
                "--workers",
                str(args.workers),
            ]
            if args.compute_processes is not None:
                command += ["--compute-processes", str(args.compute_processes)]
            log = open(Path(folder) / "server.log", "wb")
            server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=os.environ)
        try:
            if server is not None:
                _wait_until_up(base, server)
            url = base + "/api/predict" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()))
            # The answer must be our contract (not another program that took the port).
            check = httpx.post(url, content=bodies[0], headers={"content-type": "application/json"})
            if check.status_code != 200 or "model_version" not in check.json():
                raise SystemExit(f"{url} does not answer the predict contract: {check.text[:200]}")
            kind = args.client
            asyncio.run(_run(url, bodies, args.clients, 4 * args.clients, client_kind=kind))
            results = []
            for i in range(args.runs):
                cpu_before = _cpu_s(server.pid) if server is not None else None
                client_before = time.process_time()
                result = asyncio.run(
                    _run(
                        url,
                        bodies,
                        args.clients,
                        args.requests,
                        args.think_ms / 1000,
                        client_kind=kind,
                    )
                )
                # The load generator runs on the same cores: its CPU is taken from the server.
                result["client_cpu_ms_per_request"] = (
                    1000 * (time.process_time() - client_before) / result["n"]
                )
                if server is not None and cpu_before is not None:
                    # The server's own CPU per request: what the machine's cores must supply,
                    # whatever else runs beside it.
                    result["server_cpu_ms_per_request"] = (
                        1000 * (_cpu_s(server.pid) - cpu_before) / result["n"]
                    )
                results.append(result)
                print(json.dumps({"run": i + 1, **{k: _round(v) for k, v in result.items()}}))
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
                log.close()
    summary = {
        "clients": args.clients,
        "workers": args.workers,
        "compute_processes": args.compute_processes,
        "client": args.client,
        "think_ms": args.think_ms,
        "query": query,
        "median_p50_ms": statistics.median(r["p50_ms"] for r in results),
        "median_p95_ms": statistics.median(r["p95_ms"] for r in results),
        "median_requests_per_s": statistics.median(r["requests_per_s"] for r in results),
        "median_server_cpu_ms_per_request": statistics.median(
            r.get("server_cpu_ms_per_request", float("nan")) for r in results
        ),
        "median_client_cpu_ms_per_request": statistics.median(
            r["client_cpu_ms_per_request"] for r in results
        ),
        "load_average_1min": os.getloadavg()[0],
    }
    print(json.dumps({k: _round(v) for k, v in summary.items()}))
    failed = sum(n for r in results for status, n in r["statuses"].items() if status != "200")
    if failed:
        raise SystemExit(f"{failed} requests were not answered 200: the figures are not valid")


def _round(value: Any) -> Any:
    return round(value, 1) if isinstance(value, float) else value


if __name__ == "__main__":
    main()

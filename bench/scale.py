"""`make bench-scale`: one local authority's caseload on the embedded stack, its morning burst, its lists.

Starts the embedded default stack as `make run` does (bench/stack.py), opens `--cases` EHCP annual
reviews over the API as the SENDCo would (plans issued across the last 12 months, so the reviews fall
across the next 12), then `--burst` more whose SENDCo reminder falls due at one instant a few minutes
ahead, and measures: the opening rate, each process's resident memory with all open, the time from that
instant until every reminder is at the development mailbox (each counted once by its Message-ID), the
list endpoints at that size, and the CPU seconds of each process in each phase. Writes
bench/results/scale.json and stops every process it started.

The dev server runs on the real clock and every reminder goes out at 08:00 in England, so the bench
starts the burst's worker with SEND_BENCH_REMIND_AT (a bench-only setting, refused in production) at the
instant it chose: the same rule, due date and reminder day, at another time of day.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from temporalio.client import Client

from bench import scale_caseload as caseload
from bench.data import add_pupils, bench_pupil_ids, count, demo_school, explain
from bench.run import (
    KEEPALIVE,
    BenchError,
    _commit,
    _cpu_since,
    _expect,
    machine,
    measure_latency,
    per_workflow,
    percentile,
    run_guarded,
    say,
)
from bench.stack import Stack, configure
from engine.run import commands, stop
from infra.database import get_engine
from infra.settings import ROOT
from store.casework import Case, Deadline, OutboxCopy, OutboxMessage, ReceivedMail
from store.register import School

RESULTS = Path(__file__).resolve().parent / "results"
ENGLAND = ZoneInfo("Europe/London")
OPEN_WITHIN = 90.0  # a start refused with 503 (the worker not answering yet, or too far behind) is retried
SETTLE_POLL = 1.0
REMINDER_TEMPLATE = "reminder"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command-line flags."""
    p = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=20_000, help="open cases in all, the burst's included")
    p.add_argument("--burst", type=int, default=2_000, help="of them, reminded at the same instant")
    p.add_argument("--concurrency", type=int, default=16, help="case starts in flight (16)")
    p.add_argument(
        "--margin", type=float, default=60.0, help="seconds between the burst's opening and its instant"
    )
    p.add_argument("--drain-within", type=float, default=1800.0, help="seconds the burst may take to arrive")
    p.add_argument("--requests", type=int, default=200, help="timed requests per list endpoint (200)")
    p.add_argument("--latency-concurrency", type=int, default=1, help="list requests in flight (1)")
    p.add_argument("--sample", type=int, default=50, help="histories read to count the work per case (50)")
    p.add_argument("--out", type=Path, default=RESULTS / "scale.json", help="where the results go")
    p.add_argument("--keep", action="store_true", help="keep the temporary var dir (logs, databases)")
    args = p.parse_args(argv)
    if not 0 < args.burst <= args.cases:
        p.error("--burst must be between 1 and --cases")
    return args


# --- the stack's processes -----------------------------------------------------------------------
def _descendants(pid: int) -> list[int]:
    """pid and every process below it (a command may run its server as a child)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo += parents.get(found[-1], [])
    return found


def rss_mib(stack: Stack) -> dict[str, float]:
    """Resident memory (VmRSS from /proc) of each process of the stack with its children, and the bench's."""

    def one(pid: int) -> float:
        with contextlib.suppress(OSError, StopIteration, ValueError):
            line = next(
                x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("VmRSS")
            )
            return int(line.split()[1]) / 1024
        return 0.0

    used = {name: round(sum(map(one, _descendants(proc.pid))), 1) for name, proc in stack.procs}
    used["bench"] = round(one(os.getpid()), 1)
    return used


def restart_worker(stack: Stack, **env: str) -> float:
    """Stop the worker and start it again with the extra settings; the CPU seconds the old one had used."""
    at = next(i for i, (name, _) in enumerate(stack.procs) if name == "worker")
    used = stack.cpu_seconds()["worker"]
    stop([stack.procs[at]])
    cmd = next(c for name, c, _ in commands(stack.settings) if name == "worker")
    with (stack.logs / "worker.log").open("ab") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stack.procs[at] = ("worker", proc)
    return used


@dataclass
class Cpu:
    """CPU seconds per process across worker restarts (the stopped workers' seconds are kept)."""

    stack: Stack
    retired: float = 0.0

    def now(self) -> dict[str, float]:
        used = self.stack.cpu_seconds()
        used["worker"] = used.get("worker", 0.0) + self.retired
        used["machine"] = machine_busy_seconds()
        return used


def machine_busy_seconds() -> float:
    """CPU seconds every process on the machine has used (all cores; other helpers' tests included)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = ticks[3] + ticks[4]  # idle and iowait
        return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")
    return 0.0


# --- opening cases over the API ------------------------------------------------------------------
@dataclass
class Opened:
    case_ids: list[str] = field(default_factory=list)
    workflow_ids: list[str] = field(default_factory=list)
    each: list[float] = field(default_factory=list)
    refused_503: int = 0


async def open_cases(
    api_url: str, token: str, reviews: list[caseload.Review], pupils: list[int], concurrency: int, label: str
) -> Opened:
    """POST /api/v1/cases for each review as the SENDCo, `concurrency` in flight; 503s retried."""
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency + 2, keepalive_expiry=KEEPALIVE)
    opened, gate, began = Opened(), asyncio.Semaphore(concurrency), time.perf_counter()
    every = max(1, len(reviews) // 10)

    async def one(http: httpx.AsyncClient, review: caseload.Review, pupil_id: int) -> None:
        body = {"process": caseload.PROCESS, "pupil_id": pupil_id, "facts": review.facts()}
        async with gate:
            start, give_up = time.perf_counter(), time.monotonic() + OPEN_WITHIN
            while True:
                r = await http.post("/api/v1/cases", json=body)
                if r.status_code != 503 or time.monotonic() > give_up:
                    break
                opened.refused_503 += 1
                await asyncio.sleep(1)
            case = _expect(r, 201, "start case")
            opened.case_ids.append(case["id"])
            opened.workflow_ids.append(case["workflow_id"])
            opened.each.append(time.perf_counter() - start)
        done = len(opened.case_ids)
        if done % every == 0 or done == len(reviews):
            wall = time.perf_counter() - began
            say(f"    {label}: {done:,}/{len(reviews):,} started, {done / wall:.1f}/s")

    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=60, limits=limits) as http:
        await asyncio.gather(*(one(http, r, p) for r, p in zip(reviews, pupils, strict=True)))
    return opened


def planning(engine: Engine) -> int:
    """Annual review cases that show their first step (the worker has written it)."""
    query = select(func.count()).where(Case.process == caseload.PROCESS, Case.step == "planning")
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def wait_planning(engine: Engine, total: int, within: float) -> None:
    """Wait until `total` annual reviews show their first step."""
    deadline = time.monotonic() + within
    while (shown := planning(engine)) < total:
        if time.monotonic() > deadline:
            raise BenchError(
                f"only {shown:,} of {total:,} cases showed their first step after {within:.0f} s"
            )
        time.sleep(SETTLE_POLL)


def open_phase(
    stack: Stack,
    cpu: Cpu,
    token: str,
    reviews: list[caseload.Review],
    pupils: list[int],
    args: argparse.Namespace,
    label: str,
    total: int,
) -> dict[str, Any]:
    """Open the reviews and wait until every case shows its first step; the timings and CPU seconds."""
    before, t0 = cpu.now(), time.perf_counter()
    opened = asyncio.run(open_cases(stack.api_url, token, reviews, pupils, args.concurrency, label))
    accepted = time.perf_counter() - t0
    wait_planning(get_engine(), total, within=max(300.0, accepted))
    shown = time.perf_counter() - t0
    stack.check_alive()
    used = _cpu_since(before, cpu.now())
    n = len(reviews)
    return {
        "n": n,
        "via": "HTTP POST /api/v1/cases as the demo SENDCo",
        "concurrency": args.concurrency,
        "accepted_s": round(accepted, 1),
        "shown_s": round(shown, 1),
        "per_second": round(n / shown, 2),
        "start_p50_ms": round(percentile(opened.each, 50) * 1000, 1),
        "start_p95_ms": round(percentile(opened.each, 95) * 1000, 1),
        "refused_503": opened.refused_503,
        "cpu_seconds": used,
        "cpu_ms_per_case": {name: round(s * 1000 / n, 1) for name, s in used.items()},
        "case_ids": opened.case_ids,
        "workflow_ids": opened.workflow_ids,
    }


# --- the burst -----------------------------------------------------------------------------------
def reminders_received(engine: Engine, case_ids: set[str]) -> list[tuple[str, str, dt.datetime]]:
    """(Message-ID, case id, received at) of every reminder the mailbox holds for the given cases."""
    query = (
        select(ReceivedMail.message_id, OutboxMessage.case_id, ReceivedMail.received_at)
        .join(OutboxCopy, OutboxCopy.message_id == ReceivedMail.message_id)
        .join(OutboxMessage, OutboxMessage.id == OutboxCopy.outbox_id)
        .where(OutboxMessage.template == REMINDER_TEMPLATE)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [(m, c, _utc(at)) for m, c, at in rows if c in case_ids]


def _utc(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def choose_instant(burst: int, rate: float, margin: float) -> dt.datetime:
    """The burst's instant: after its cases can be opened at the measured rate (twice over) and the margin."""
    ahead = 2 * burst / max(rate, 0.1) + margin
    at = dt.datetime.now(ENGLAND) + dt.timedelta(seconds=ahead)
    at = at.replace(microsecond=0) + dt.timedelta(seconds=1)
    if at.date() != dt.datetime.now(ENGLAND).date():
        raise BenchError(
            "the burst's instant would fall tomorrow in England: run the bench earlier in the day"
        )
    return at


def measure_burst(
    stack: Stack, cpu: Cpu, instant: dt.datetime, case_ids: list[str], within: float
) -> dict[str, Any]:
    """Wait for the instant, then until every case's reminder is at the mailbox; when each arrived."""
    engine, wanted = get_engine(), set(case_ids)
    early = reminders_received(engine, wanted)
    if early:
        raise BenchError(f"{len(early)} reminders arrived before the instant")
    wait = (instant - dt.datetime.now(dt.UTC)).total_seconds()
    say(f"    waiting {wait:.0f} s for {instant:%H:%M:%S} (England)")
    time.sleep(max(0.0, wait))
    before, deadline = cpu.now(), time.monotonic() + within
    every, last_said = max(1, len(wanted) // 10), 0
    while True:
        rows = reminders_received(engine, wanted)
        cases = {c for _, c, _ in rows}
        if len(cases) // every > last_said:
            last_said = len(cases) // every
            late = (dt.datetime.now(dt.UTC) - instant).total_seconds()
            say(
                f"    {len(cases):,}/{len(wanted):,} reminders at the mailbox, {late:.0f} s after the instant"
            )
        if len(cases) == len(wanted) or time.monotonic() > deadline:
            break
        stack.check_alive()
        time.sleep(0.5)
    drained = time.monotonic()
    used = _cpu_since(before, cpu.now())
    time.sleep(5)  # a late duplicate would arrive now
    rows = reminders_received(engine, wanted)
    ids = Counter(m for m, _, _ in rows)
    per_case = Counter(c for _, c, _ in {(m, c, None) for m, c, _ in rows})
    after = sorted((at - instant).total_seconds() for _, _, at in rows)
    return {
        "instant": instant.isoformat(),
        "reminders_expected": len(wanted),
        "messages_received": len(rows),
        "distinct_message_ids": len(ids),
        "duplicates": sum(n - 1 for n in ids.values()),
        "cases_reminded": len(per_case),
        "cases_reminded_more_than_once": sum(1 for n in per_case.values() if n > 1),
        "lost": len(wanted) - len(per_case),
        "first_s": round(after[0], 1) if after else None,
        "p50_s": round(percentile(after, 50), 1) if after else None,
        "p95_s": round(percentile(after, 95), 1) if after else None,
        "drain_s": round(after[-1], 1) if after else None,
        "per_second": round(len(ids) / max(after[-1], 0.001), 1) if after else None,
        "cpu_seconds": used,
        "cpu_window_s": round(drained - (deadline - within), 1),
    }


async def work_per_case(
    stack: Stack, spread: dict[str, Any], burst: dict[str, Any], n: int
) -> dict[str, Any]:
    """Temporal work in the whole history of n spread cases (opened) and n burst cases (opened, reminded)."""
    client = await Client.connect(stack.settings.temporal_address)
    return {
        "spread_opened": await per_workflow(client, spread["workflow_ids"][:n]),
        "burst_opened_and_reminded": await per_workflow(client, burst["workflow_ids"][:n]),
    }


# --- the whole run -------------------------------------------------------------------------------
def file_mib(var_dir: Path) -> dict[str, float]:
    """The size on disk of both SQLite databases (with their write-ahead logs), in MiB."""
    return {
        name: round(sum(p.stat().st_size for p in var_dir.glob(f"{name}.db*")) / 2**20, 1)
        for name in ("temporal", "send")
    }


def sizes(engine: Engine) -> dict[str, int]:
    return {
        "cases": count(engine, Case),
        "open_cases": count(engine, Case, status="open"),
        "deadlines": count(engine, Deadline),
        "outbox_messages": count(engine, OutboxMessage),
        "received_mail": count(engine, ReceivedMail),
    }


def run(args: argparse.Namespace, var_dir: Path) -> dict[str, Any]:
    """Every phase, in order, on a stack started (and always stopped) here."""
    began = time.monotonic()
    load_before = os.getloadavg()
    stack = Stack(configure(var_dir))
    cpu = Cpu(stack)
    today = dt.datetime.now(ENGLAND).date()

    def phase(message: str) -> None:
        say(f"{message}   (t={time.monotonic() - began:.0f} s, load {os.getloadavg()[0]:.1f})")

    try:
        phase(f"[1/6] seeding the demo school and {args.cases:,} pupils with EHC plans in {var_dir}")
        token = stack.seed()
        engine = get_engine()
        with engine.begin() as conn:  # the bench school's SENDCo works every day: reminders stay on their day
            conn.execute(
                update(School)
                .where(School.id == demo_school(engine))
                .values(sendco_working_days=caseload.EVERY_DAY)
            )
        add_pupils(engine, args.cases + 10)
        pupils = bench_pupil_ids(engine, args.cases)
        spread = caseload.spread(args.cases - args.burst, today)
        burst = caseload.burst(args.burst, today)
        phase("[2/6] starting the stack (Temporal dev server, mailbox, worker, API)")
        stack.start()
        rss_idle = rss_mib(stack)
        phase(
            f"[3/6] opening {len(spread):,} annual reviews spread over the year, {args.concurrency} at a time"
        )
        opening = open_phase(stack, cpu, token, spread, pupils[: len(spread)], args, "spread", len(spread))
        say(f"    {opening['per_second']} cases/s ({opening['shown_s']} s)")
        rss_spread = rss_mib(stack)  # the worker that opened them, before it is restarted for the burst
        instant = choose_instant(len(burst), opening["per_second"], args.margin)
        cpu.retired += restart_worker(stack, SEND_BENCH_REMIND_AT=instant.time().isoformat())
        phase(
            f"[4/6] opening the burst's {len(burst):,} reviews, reminded today at {instant:%H:%M:%S} "
            "(England)"
        )
        burst_open = open_phase(stack, cpu, token, burst, pupils[len(spread) :], args, "burst", args.cases)
        if dt.datetime.now(dt.UTC) >= instant:
            raise BenchError("the burst's cases were not all open before its instant: raise --margin")
        rss_open = rss_mib(stack)
        data_open = {**sizes(engine), "files_mib": file_mib(var_dir)}
        phase(f"[5/6] the burst: {len(burst):,} reminders due at {instant:%H:%M:%S}")
        burst_result = measure_burst(stack, cpu, instant, burst_open["case_ids"], args.drain_within)
        say(
            f"    every reminder in {burst_result['drain_s']} s; lost {burst_result['lost']}, "
            f"duplicates {burst_result['duplicates']}"
        )
        work = asyncio.run(work_per_case(stack, opening, burst_open, args.sample))
        phase(f"[6/6] the lists at {data_open['cases']:,} cases: {args.requests} requests per endpoint")
        lists = asyncio.run(measure_latency(stack.api_url, token, args))
        plans = explain(engine)
        stack.check_alive()
        rss_end = rss_mib(stack)
        load_after = os.getloadavg()
    finally:
        say("stopping the stack...")
        stack.close()
    for result in (opening, burst_open):
        result.pop("case_ids")
        result.pop("workflow_ids")
    total_open = opening["shown_s"] + burst_open["shown_s"]
    return {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "machine": machine(
            load_avg_before=[round(x, 2) for x in load_before],
            load_avg_after=[round(x, 2) for x in load_after],
        ),
        "params": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "keep"},
        "opening": {
            "cases": args.cases,
            "seconds": round(total_open, 1),
            "per_second": round(args.cases / total_open, 2),
            "spread": opening,
            "burst_cases": burst_open,
        },
        "rss_mib": {"idle": rss_idle, "spread_open": rss_spread, "all_open": rss_open, "end": rss_end},
        "data": {"all_open": data_open, "end": {**sizes(engine), "files_mib": file_mib(var_dir)}},
        "burst": burst_result,
        "work_per_case": work,
        "lists": lists,
        "query_plans": plans,
        "runtime_s": round(time.monotonic() - began, 1),
    }


def summary(r: dict[str, Any]) -> str:
    """The figures, as printed."""
    o, b, m = r["opening"], r["burst"], r["rss_mib"]["all_open"]
    lines = [
        f"opened {o['cases']:,} annual reviews over HTTP in {o['seconds']:,} s: {o['per_second']} cases/s "
        f"(spread {o['spread']['per_second']}/s, burst's {o['burst_cases']['per_second']}/s; "
        f"503s retried {o['spread']['refused_503'] + o['burst_cases']['refused_503']})",
        "CPU ms per case opened: "
        + ", ".join(f"{k} {v:g}" for k, v in o["spread"]["cpu_ms_per_case"].items()),
        "RSS MiB with all open: " + ", ".join(f"{k} {v:g}" for k, v in m.items()),
        "RSS MiB after the spread (the worker that opened them): "
        + ", ".join(f"{k} {v:g}" for k, v in r["rss_mib"]["spread_open"].items()),
        "databases on disk, MiB: "
        + ", ".join(f"{k} {v:g}" for k, v in r["data"]["all_open"]["files_mib"].items()),
        f"burst: {b['reminders_expected']:,} reminders due at {b['instant']}: first after {b['first_s']} s, "
        f"p50 {b['p50_s']} s, p95 {b['p95_s']} s, all after {b['drain_s']} s ({b['per_second']}/s); "
        f"lost {b['lost']}, duplicates {b['duplicates']}",
        "CPU s in the burst: " + ", ".join(f"{k} {v:g}" for k, v in b["cpu_seconds"].items()),
    ]
    for row in r["lists"].values():
        lines.append(
            f"GET {row['path']}: p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms "
            f"({row['p50_vs_health']} x / {row['p95_vs_health']} x /health)"
        )
    load = r["machine"]
    lines.append(
        f"load average before {load['load_avg_before']}, after {load['load_avg_after']}; "
        f"runtime {r['runtime_s']} s"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the scale bench; 0 on success, 1 on failure, 130 when interrupted."""
    args = parse_args(argv)
    results = run_guarded(run, args, "send-scale-")
    if isinstance(results, int):
        return results
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    say("\n" + summary(results) + f"\n\nresults: {args.out}")
    return 0 if results["burst"]["lost"] == 0 and results["burst"]["duplicates"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

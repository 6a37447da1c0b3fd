#!/usr/bin/env python3
"""Collect rollouts with asyncio: dataset lines in, NeMo Gym output lines out.

Start a mesh, then point this at its rollout instance (``gym serve`` prints
its URL)::

    npx gym serve --config config/replay.yaml
    python clients/python/examples/async_collect.py --url http://127.0.0.1:PORT --repeats 2

Each dataset line goes on the wire as it is; each result is written as it
arrives, the output line to ``--output`` and a failure to
``<stem>_failures.jsonl``: what ``gym collect`` writes, with no converter.
The event loop stays free while the stream runs (a progress line ticks
beside it). ``--stop-after N`` cancels the collecting task after N results:
the stream is cancelled and the mesh stops the rollouts still running.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import TextIO

from gymmesh import AsyncGymClient

DATASET = Path(__file__).resolve().parents[3] / "services" / "environments" / "example_single_tool_call" / "data" / "example.jsonl"


class Tally:
    def __init__(self) -> None:
        self.rollouts = 0
        self.failures = 0
        self.reward_sum = 0.0
        self.reached = asyncio.Event()


async def collect(client: AsyncGymClient, lines: list[str], args: argparse.Namespace, out: TextIO, failures: TextIO, tally: Tally) -> None:
    async for result in client.collect(lines, repeats=args.repeats, max_in_flight=args.max_in_flight):
        if tally.reached.is_set():
            continue  # stopping: the task is about to be cancelled
        if result.ok:
            tally.rollouts += 1
            tally.reward_sum += result.reward or 0.0
            out.write(json.dumps(result.line) + "\n")
        else:
            tally.failures += 1
            failures.write(json.dumps(result.line) + "\n")
        if args.stop_after and tally.rollouts + tally.failures >= args.stop_after:
            tally.reached.set()


async def ticker(tally: Tally, total: int) -> None:
    while True:
        await asyncio.sleep(0.5)
        print(f"  {tally.rollouts + tally.failures}/{total} done", file=sys.stderr)


async def main_async(args: argparse.Namespace) -> int:
    lines = [line for line in args.input.read_text().splitlines() if line.strip()][: args.limit]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    failures_path = args.output.with_name(f"{args.output.stem}_failures.jsonl")
    tally = Tally()
    started = time.monotonic()
    async with AsyncGymClient(args.url, token=args.token, timeout=args.timeout) as client:
        with args.output.open("w") as out, failures_path.open("w") as failures:
            work = asyncio.create_task(collect(client, lines, args, out, failures, tally))
            progress = asyncio.create_task(ticker(tally, len(lines) * args.repeats))
            stop = asyncio.create_task(tally.reached.wait())
            await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
            stopped = not work.done()
            for task in (work, progress, stop):
                task.cancel()
            await asyncio.gather(work, progress, stop, return_exceptions=True)
            error = None if stopped else work.exception()
            if error is not None:
                raise error
    mean = tally.reward_sum / tally.rollouts if tally.rollouts else 0.0
    print(
        f"{tally.rollouts} rollouts, mean reward {mean:.4f}, {tally.failures} failed, {time.monotonic() - started:.2f} s"
        + (" (stopped early: the rest were cancelled)" if stopped else "")
    )
    print(f"output lines in {args.output}, failures in {failures_path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--url", required=True, help="the rollout instance (gym serve prints it)")
    parser.add_argument("--input", type=Path, default=DATASET, help="a NeMo Gym dataset (JSONL)")
    parser.add_argument("--output", type=Path, default=Path("out/async_rollouts.jsonl"))
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None, help="first N lines only")
    parser.add_argument("--max-in-flight", type=int, default=64)
    parser.add_argument("--stop-after", type=int, default=0, help="cancel after N results (0: never)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds for the whole collect")
    parser.add_argument("--token", default=None, help="bearer token of the mesh, if it wants one")
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())

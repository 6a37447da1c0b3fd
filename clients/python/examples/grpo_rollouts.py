#!/usr/bin/env python3
"""GRPO rollouts from a gym-mesh: groups of N rollouts per prompt over one
Collect stream, group-normalized advantages, per-token training records.

Start a mesh, then point this at its rollout instance (``gym serve`` prints
its URL)::

    npx gym serve --config config/grpo.yaml   # seeded mock: repeats differ; token ids: training records
    python clients/python/examples/grpo_rollouts.py --url http://127.0.0.1:PORT

Every dataset line goes on the wire as it is, ``--group-size`` times (each
repeat seeded with its index, as NeMo Gym's ``num_repeats_add_seed``). As
the rollouts of a prompt finish, its group is complete: each rollout's
advantage is its reward minus the group's mean, over the group's standard
deviation (0 when all rewards are equal). Each rollout's turns are joined
into token sequences (``gymmesh.token_data``) and written to ``--output``,
one JSON record per sequence: ``prompt_ids``, ``completion_ids``,
``logprobs`` (the sampler's, for the importance ratio), ``loss_mask`` and
per-token ``advantages`` (the rollout's advantage where the loss mask is 1).
A mesh whose model returns no token ids (``config/replay.yaml``) still gives
the groups and advantages, and no records.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from gymmesh import GymClient, Result, token_data

DATASET = Path(__file__).resolve().parents[3] / "services" / "environments" / "example_single_tool_call" / "data" / "example.jsonl"


def group_advantages(rewards: list[float], eps: float = 1e-6) -> list[float]:
    """GRPO's advantages: (reward - mean) / (std + eps) within one group."""
    mean = sum(rewards) / len(rewards)
    std = math.sqrt(sum((r - mean) ** 2 for r in rewards) / len(rewards))
    return [(r - mean) / (std + eps) for r in rewards]


def training_records(group: list[Result], advantages: list[float]) -> list[dict[str, Any]]:
    """One record per token sequence of each rollout of the group."""
    records: list[dict[str, Any]] = []
    for result, advantage in zip(group, advantages):
        if result.line is None or not token_data.has_token_data(result.line):
            continue
        for seq in token_data.sequences(result.line):
            records.append(
                {
                    "task_index": result.index,
                    "rollout_index": result.repeat,
                    "reward": result.reward,
                    "advantage": advantage,
                    "prompt_ids": seq.prompt_ids,
                    "completion_ids": seq.completion_ids,
                    "logprobs": seq.logprobs,
                    "loss_mask": seq.loss_mask,
                    "advantages": [advantage * m for m in seq.loss_mask],
                }
            )
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--url", required=True, help="the rollout instance (gym serve prints it)")
    parser.add_argument("--input", type=Path, default=DATASET, help="a NeMo Gym dataset (JSONL)")
    parser.add_argument("--group-size", type=int, default=4, help="rollouts per prompt")
    parser.add_argument("--limit", type=int, default=None, help="first N prompts only")
    parser.add_argument("--max-in-flight", type=int, default=32)
    parser.add_argument("--output", type=Path, default=Path("out/grpo_records.jsonl"))
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds for the whole collect")
    parser.add_argument("--token", default=None, help="bearer token of the mesh, if it wants one")
    args = parser.parse_args(argv)

    lines = [line for line in args.input.read_text().splitlines() if line.strip()][: args.limit]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    pending: dict[int, list[Result]] = {}
    groups = records = failed = 0
    with GymClient(args.url, token=args.token, timeout=args.timeout) as client, args.output.open("w") as out:
        for result in client.collect(lines, repeats=args.group_size, max_in_flight=args.max_in_flight, add_seed=True):
            group = pending.setdefault(result.index, [])
            group.append(result)
            if len(group) < args.group_size:
                continue
            del pending[result.index]
            ok = sorted((r for r in group if r.ok), key=lambda r: r.repeat)
            failed += len(group) - len(ok)
            for r in group:
                if r.error is not None:
                    print(f"task {r.index} repeat {r.repeat} failed: {r.error.code_name}: {r.error.message}")
            if len(ok) < 2:
                print(f"task {result.index}: {len(ok)} rollout(s) succeeded: no group to learn from")
                continue
            rewards = [float(r.reward or 0.0) for r in ok]
            advantages = group_advantages(rewards)
            written = training_records(ok, advantages)
            for record in written:
                out.write(json.dumps(record) + "\n")
            groups += 1
            records += len(written)
            print(
                f"task {result.index}: rewards {[round(x, 3) for x in rewards]} "
                f"advantages {[round(a, 3) for a in advantages]} -> {len(written)} training records"
            )
    print(f"{groups} groups of {args.group_size}, {records} training records in {args.output}, {failed} failed, {time.monotonic() - started:.2f} s")
    if groups and not records:
        print("no token ids in these rollouts: serve the policy with return_token_ids (config/grpo.yaml)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

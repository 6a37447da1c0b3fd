"""The examples run against real meshes: grpo_rollouts.py against
config/grpo.yaml (a seeded mock whose repeats differ, token ids on every turn)
and the default mesh (no token ids), async_collect.py against the default one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
from conftest import REPO, Mesh, start_mesh

EXAMPLES = REPO / "clients" / "python" / "examples"


@pytest.fixture(scope="module")
def training() -> Iterator[Mesh]:
    m = start_mesh(REPO / "config" / "grpo.yaml")
    try:
        yield m
    finally:
        m.stop()


def run(example: str, *args: str) -> str:
    done = subprocess.run([sys.executable, str(EXAMPLES / example), *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{example} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_grpo_rollouts_with_token_ids(training: Mesh, tmp_path: Path) -> None:
    out = tmp_path / "records.jsonl"
    stdout = run("grpo_rollouts.py", "--url", training.url("rollout"), "--group-size", "3", "--output", str(out))
    assert "5 groups of 3, 15 training records" in stdout and "0 failed" in stdout, stdout
    records = read_jsonl(out)
    assert sorted((r["task_index"], r["rollout_index"]) for r in records) == [(i, k) for i in range(5) for k in range(3)]
    for r in records:
        n = len(r["completion_ids"])
        assert n > 0 and len(r["logprobs"]) == len(r["loss_mask"]) == len(r["advantages"]) == n
        assert set(r["loss_mask"]) <= {0, 1} and r["loss_mask"][0] == 1
        assert r["advantages"] == [r["advantage"] * m for m in r["loss_mask"]]
        assert all(lp == 0.0 for lp, m in zip(r["logprobs"], r["loss_mask"]) if m == 0)
        assert all(lp < 0.0 for lp, m in zip(r["logprobs"], r["loss_mask"]) if m == 1)
        assert "get_weather" in bytes(r["prompt_ids"]).decode()  # the mock's tokenizer: UTF-8 bytes
    for task in range(5):
        group = [r for r in records if r["task_index"] == task]
        assert abs(sum(r["advantage"] for r in group)) < 1e-6  # normalized within the group
    # The seeded mock's repeats differ: some group has something to learn from.
    assert any(r["advantage"] != 0 for r in records)


def test_grpo_rollouts_without_token_ids(mesh: Mesh, tmp_path: Path) -> None:
    out = tmp_path / "records.jsonl"
    stdout = run("grpo_rollouts.py", "--url", mesh.url("rollout"), "--group-size", "2", "--limit", "3", "--output", str(out))
    assert "3 groups of 2, 0 training records" in stdout and "no token ids in these rollouts" in stdout, stdout
    assert out.read_text() == ""


def test_async_collect(mesh: Mesh, tmp_path: Path, dataset_rows: list[dict[str, Any]]) -> None:
    out = tmp_path / "rollouts.jsonl"
    stdout = run("async_collect.py", "--url", mesh.url("rollout"), "--repeats", "2", "--output", str(out))
    assert "10 rollouts, mean reward 1.0000, 0 failed" in stdout, stdout
    lines = read_jsonl(out)
    assert sorted((l["_ng_task_index"], l["_ng_rollout_index"]) for l in lines) == [(i, k) for i in range(5) for k in range(2)]
    for line in lines:
        assert {k: line[k] for k in dataset_rows[line["_ng_task_index"]]} == dataset_rows[line["_ng_task_index"]]
    assert (tmp_path / "rollouts_failures.jsonl").read_text() == ""

    stdout = run("async_collect.py", "--url", mesh.url("rollout"), "--repeats", "20", "--stop-after", "7", "--output", str(out))
    assert "7 rollouts" in stdout and "stopped early" in stdout, stdout
    assert len(read_jsonl(out)) == 7

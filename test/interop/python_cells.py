"""The Python columns of the interop matrix (test/interop-matrix.test.ts):
grpcio's sync and asyncio clients call Run and Collect of one running mesh on
the ports they are given, with raw NeMo Gym rows and with typed tasks, using
only the generated stubs. Reads the spec as JSON on stdin, prints the cells as
JSON on stdout."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any, Iterator

import grpc
from google.protobuf import json_format

from gymmesh.v1 import agent_pb2, agent_pb2_grpc, rollout_pb2, rollout_pb2_grpc, task_pb2

TIMEOUT_S = 60.0


def target(url: str) -> str:
    return url.split("://", 1)[1].rstrip("/")


def run_requests(spec: dict[str, Any], mode: str) -> list[agent_pb2.RunRequest]:
    if mode == "raw":
        return [agent_pb2.RunRequest(row_json=row, want_output_line=True) for row in spec["rows"]]
    tasks = [json_format.ParseDict(t, task_pb2.Task()) for t in spec["tasks"]]
    return [agent_pb2.RunRequest(task=t, want_output_line=True) for t in tasks]


def collect_requests(spec: dict[str, Any], mode: str) -> Iterator[rollout_pb2.CollectRequest]:
    for i, row in enumerate(spec["rows"]):
        if mode == "raw":
            yield rollout_pb2.CollectRequest(task_id=str(i), row_json=row, num_repeats=2, want_output_lines=True, task_index=i)
        else:
            task = json_format.ParseDict(spec["tasks"][i], task_pb2.Task())
            yield rollout_pb2.CollectRequest(task_id=str(i), task=task, num_repeats=2)


def run_result(i: int, res: agent_pb2.RunResponse) -> dict[str, Any]:
    return {"index": i, "repeat": 0, "reward": res.rollout.verdict.reward, "line": res.output_line_json}


def collect_result(res: rollout_pb2.CollectResponse) -> dict[str, Any]:
    out: dict[str, Any] = {"index": int(res.task_id), "repeat": res.repeat_index}
    kind = res.WhichOneof("outcome")
    if kind == "error":
        out["error"] = res.error.message
    elif kind == "output_line_json":
        out["line"] = res.output_line_json
        out["reward"] = json.loads(res.output_line_json)["reward"]
    else:
        out["reward"] = res.rollout.verdict.reward
    return out


def sync_cells(spec: dict[str, Any], port: str) -> list[dict[str, Any]]:
    cells = []
    with grpc.insecure_channel(target(spec["agent"][port])) as ch:
        agent = agent_pb2_grpc.AgentServiceStub(ch)
        for mode in ("raw", "typed"):
            results = [run_result(i, agent.Run(req, timeout=TIMEOUT_S)) for i, req in enumerate(run_requests(spec, mode))]
            cells.append({"rpc": "Run", "port": port, "mode": mode, "results": results})
    with grpc.insecure_channel(target(spec["rollout"][port])) as ch:
        rollout = rollout_pb2_grpc.RolloutServiceStub(ch)
        for mode in ("raw", "typed"):
            results = [collect_result(r) for r in rollout.Collect(collect_requests(spec, mode), timeout=TIMEOUT_S)]
            cells.append({"rpc": "Collect", "port": port, "mode": mode, "results": results})
    return cells


async def aio_cells(spec: dict[str, Any], port: str) -> list[dict[str, Any]]:
    cells = []
    async with grpc.aio.insecure_channel(target(spec["agent"][port])) as ch:
        agent = agent_pb2_grpc.AgentServiceStub(ch)
        for mode in ("raw", "typed"):
            responses = await asyncio.gather(*(agent.Run(req, timeout=TIMEOUT_S) for req in run_requests(spec, mode)))
            cells.append({"rpc": "Run", "port": port, "mode": mode, "results": [run_result(i, r) for i, r in enumerate(responses)]})
    async with grpc.aio.insecure_channel(target(spec["rollout"][port])) as ch:
        rollout = rollout_pb2_grpc.RolloutServiceStub(ch)
        for mode in ("raw", "typed"):
            call = rollout.Collect(collect_requests(spec, mode), timeout=TIMEOUT_S)
            results = [collect_result(r) async for r in call]
            cells.append({"rpc": "Collect", "port": port, "mode": mode, "results": results})
    return cells


def main() -> None:
    spec = json.load(sys.stdin)
    out = []
    for port in ("http", "grpc"):
        out += [{"client": "python grpcio", **c} for c in sync_cells(spec, port)]
        out += [{"client": "python grpc.aio", **c} for c in asyncio.run(aio_cells(spec, port))]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()

"""UNAVAILABLE retried, broken Collect streams resumed without duplicates:
the client starts before its mesh is up, then the mesh crashes (SIGKILL)
mid-collect and another takes its place on the same port."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any, AsyncIterator, Callable

import pytest
from conftest import Mesh, free_port, start_mesh, write_config

from gymmesh import AsyncGymClient, GymClient, Result, Retry

ROWS, REPEATS, IN_FLIGHT = 8, 3, 6
# Enough tries, soon enough, to wait for a mesh to start (about 2 s here).
PATIENT = Retry(attempts=100, initial_backoff=0.05, max_backoff=0.3)


def config(tmp: Path, name: str, agent: str, port: int, grpc_port: int) -> Path:
    """A mesh whose rollout instance listens on fixed ports and runs every task with `agent`."""
    return write_config(
        tmp,
        name,
        {
            # 0.2 s per model call: rollouts stay in flight long enough to be cut.
            "mock": {"kind": "mock_model", "latency_s": 0.2},
            "policy": {"kind": "model", "base_url": "mock", "model": "mock"},
            "weather": {"kind": "resources", "environment": "example_single_tool_call"},
            agent: {"kind": "agent", "model": "policy", "resources": "weather"},
            "rollout": {"kind": "rollout", "port": port, "grpc_port": grpc_port, "default_agent": agent},
        },
    )


class Scenario:
    """Mesh `before` comes up after the client started; after a few results it
    is killed and mesh `after` starts on the same ports."""

    def __init__(self, tmp: Path) -> None:
        port, grpc_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.before = config(tmp, "before", "before", port, grpc_port)
        self.after = config(tmp, "after", "after", port, grpc_port)
        self.some_results = threading.Event()
        self.meshes: list[Mesh] = []

    def on_result(self, count: int) -> None:
        if count == 5:
            self.some_results.set()

    def play(self, collect: Callable[[], list[Result]]) -> tuple[list[Result], float]:
        got: list[list[Result]] = []
        errors: list[BaseException] = []

        def client() -> None:
            try:
                got.append(collect())
            except BaseException as err:
                errors.append(err)

        thread = threading.Thread(target=client)
        thread.start()
        try:
            time.sleep(0.5)  # the client tries a server that is not there yet
            self.meshes.append(start_mesh(self.before))
            assert self.some_results.wait(30), "no results from the first mesh"
            self.meshes[0].kill()
            self.meshes.append(start_mesh(self.after))
            thread.join(60)
            assert not thread.is_alive(), "the collect did not finish"
            assert not errors, errors
            # The second mesh's agent: rollouts it ran (Run calls that ended ok).
            after_runs = self.meshes[1].metric("after", "gym_rpc_requests_total")
            return got[0], after_runs
        finally:
            for m in self.meshes[1:]:
                m.stop()
            thread.join(10)

    def check(self, results: list[Result], after_runs: float, rows: list[dict[str, Any]]) -> None:
        keys = [(r.index, r.repeat) for r in results]
        assert sorted(keys) == [(i, k) for i in range(ROWS) for k in range(REPEATS)], "each (row, repeat) exactly once"
        for r in results:
            assert r.ok, r.error
            assert r.line is not None and r.line["_ng_task_index"] == r.index and r.line["_ng_rollout_index"] == r.repeat
            assert {k: r.line[k] for k in rows[r.index]} == rows[r.index]
        by_agent = {name: sum(r.agent == name for r in results) for name in ("before", "after")}
        assert by_agent["before"] >= 5 and by_agent["after"] >= 1, by_agent
        # Every rollout the second mesh ran was yielded: none that had been answered was sent again.
        assert after_runs == by_agent["after"], (after_runs, by_agent)


@pytest.fixture
def rows(dataset_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [dataset_rows[i % len(dataset_rows)] for i in range(ROWS)]


def test_sync_collect_survives_a_late_server_and_a_crash(tmp_path: Path, rows: list[dict[str, Any]]) -> None:
    scenario = Scenario(tmp_path)

    def collect() -> list[Result]:
        out: list[Result] = []
        with GymClient(scenario.url, retry=PATIENT, timeout=120) as client:
            for r in client.collect(rows, repeats=REPEATS, max_in_flight=IN_FLIGHT):
                out.append(r)
                scenario.on_result(len(out))
        return out

    scenario.check(*scenario.play(collect), rows)


def test_async_collect_survives_a_late_server_and_a_crash(tmp_path: Path, rows: list[dict[str, Any]]) -> None:
    scenario = Scenario(tmp_path)

    async def source() -> AsyncIterator[dict[str, Any]]:
        # An async source that is often waited on when a stream breaks.
        for row in rows:
            await asyncio.sleep(0.05)
            yield row

    async def main() -> list[Result]:
        out: list[Result] = []
        async with AsyncGymClient(scenario.url, retry=PATIENT, timeout=120) as client:
            async for r in client.collect(source(), repeats=REPEATS, max_in_flight=IN_FLIGHT):
                out.append(r)
                scenario.on_result(len(out))
        return out

    scenario.check(*scenario.play(lambda: asyncio.run(main())), rows)


def test_run_waits_for_a_late_server(tmp_path: Path, rows: list[dict[str, Any]]) -> None:
    port, grpc_port = free_port(), free_port()
    path = write_config(
        tmp_path,
        "agent",
        {
            "mock": {"kind": "mock_model"},
            "policy": {"kind": "model", "base_url": "mock", "model": "mock"},
            "weather": {"kind": "resources", "environment": "example_single_tool_call"},
            "agent": {"kind": "agent", "model": "policy", "resources": "weather", "port": port, "grpc_port": grpc_port},
        },
    )
    results: list[Result] = []
    thread = threading.Thread(target=lambda: results.append(GymClient(f"grpc://127.0.0.1:{grpc_port}", retry=PATIENT).run(rows[0])))
    thread.start()
    time.sleep(0.5)
    mesh = start_mesh(path)
    try:
        thread.join(30)
        assert results and results[0].ok and results[0].reward == 1.0
    finally:
        mesh.stop()

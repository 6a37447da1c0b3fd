"""GymClient and AsyncGymClient against real meshes: the raw path, typed
tasks, failures, the in-flight cap, deadlines, cancellation, bad targets."""

from __future__ import annotations

import asyncio
import time
from typing import Any, AsyncIterator, Iterator

import grpc
import pytest
from conftest import Mesh, free_port, weather_task

from gymmesh import AsyncGymClient, GymClient, GymError, Result, Retry
from gymmesh._channel import parse_url

AGENT = "example_single_tool_call_simple_agent"
QUICK = Retry(attempts=3, initial_backoff=0.05, max_backoff=0.2)


def by_key(results: list[Result]) -> dict[tuple[int, int], Result]:
    keyed = {(r.index, r.repeat): r for r in results}
    assert len(keyed) == len(results), "a (task, repeat) came twice"
    return keyed


def assert_output_line(r: Result, row: dict[str, Any], agent: str = AGENT) -> None:
    assert r.ok and r.error is None and r.rollout is None
    assert r.line is not None
    for key, value in row.items():
        assert r.line[key] == value, key
    assert r.line["_ng_task_index"] == r.index
    assert r.line["_ng_rollout_index"] == r.repeat
    assert r.line["agent_ref"] == {"name": agent}
    assert [o["type"] for o in r.line["response"]["output"]] == ["function_call", "function_call_output", "message"]
    assert r.reward == r.line["reward"] == 1.0
    assert r.agent == agent


# ---------------------------------------------------------------------------
# URLs


def test_urls() -> None:
    assert parse_url("http://127.0.0.1:5000").address == "127.0.0.1:5000"
    assert parse_url("http://127.0.0.1:5000/").tls is False
    assert parse_url("grpc://10.0.0.1:9090") == parse_url("10.0.0.1:9090")
    assert parse_url("https://example.com").address == "example.com:443"
    assert parse_url("https://example.com").tls is True
    assert parse_url("grpcs://example.com:8443").tls is True
    assert parse_url("http://[::1]:50051").address == "[::1]:50051"
    for bad, why in [
        ("ftp://host:1", "unknown scheme"),
        ("http://host:1/gymmesh.v1.AgentService/Run", "no path"),
        ("http://", "no host"),
        ("localhost", "no port"),
        ("http://host:port", "port"),
    ]:
        with pytest.raises(ValueError, match=why):
            parse_url(bad)
    with pytest.raises(ValueError, match="plaintext URL"):
        GymClient("http://127.0.0.1:1", root_certificates=b"x")
    with pytest.raises(ValueError, match="both private_key and certificate_chain"):
        GymClient("https://127.0.0.1:1", private_key=b"x")


# ---------------------------------------------------------------------------
# GymClient: run


def test_run_a_row_gives_its_output_line(mesh: Mesh, dataset_rows: list[dict[str, Any]], dataset_lines: list[str]) -> None:
    with GymClient(mesh.url(AGENT), timeout=30) as client:
        for row in (dataset_rows[0], dataset_lines[0]):  # a dict, or the JSONL line as it is
            r = client.run(row)
            assert r.line is not None and r.ok and r.reward == 1.0 and r.agent == AGENT
            assert {k: r.line[k] for k in dataset_rows[0]} == dataset_rows[0]
            assert [o["type"] for o in r.line["response"]["output"]] == ["function_call", "function_call_output", "message"]


def test_run_a_typed_task_gives_the_typed_rollout(mesh: Mesh) -> None:
    task = weather_task()
    with GymClient(mesh.url(AGENT), timeout=30) as client:
        r = client.run(task, rollout_id="typed-1")
        assert r.line is None and r.rollout is not None
        assert r.rollout.rollout_id == "typed-1" and r.rollout.task == task
        assert r.reward == 1.0
        # request_id goes as x-request-id: the rollout id when none is given.
        assert client.run(task, request_id="req-42").rollout.rollout_id == "req-42"  # type: ignore[union-attr]


def test_run_a_bad_row_raises_invalid_argument(mesh: Mesh) -> None:
    with GymClient(mesh.url(AGENT), timeout=30) as client:
        with pytest.raises(GymError) as err:
            client.run({"expected_answer": "C"})
    e = err.value
    assert isinstance(e, grpc.RpcError)
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and e.code_name == "INVALID_ARGUMENT"
    assert "responses_create_params" in e.details()
    assert mesh.url(AGENT) in str(e) and "AgentService/Run" in str(e)


# ---------------------------------------------------------------------------
# GymClient: collect


def test_collect_rows_yields_every_repeat_once(mesh: Mesh, dataset_rows: list[dict[str, Any]], dataset_lines: list[str]) -> None:
    rows: list[Any] = [dataset_rows[0], dataset_lines[1], dataset_rows[2], dataset_lines[3], dataset_rows[4]]
    with GymClient(mesh.url("rollout"), timeout=60) as client:
        results = by_key(list(client.collect(rows, repeats=3, max_in_flight=4)))
    assert sorted(results) == [(i, k) for i in range(5) for k in range(3)]
    for (i, _), r in results.items():
        assert_output_line(r, dataset_rows[i])


def test_collect_typed_tasks_gives_typed_rollouts(mesh: Mesh) -> None:
    tasks = [weather_task(f"what's it like in sf? ({i})") for i in range(3)]
    with GymClient(mesh.url("rollout"), timeout=60) as client:
        results = by_key(list(client.collect(tasks, repeats=2)))
    assert sorted(results) == [(i, k) for i in range(3) for k in range(2)]
    for (i, _), r in results.items():
        assert r.ok and r.line is None and r.rollout is not None
        assert r.rollout.task == tasks[i]
        assert r.reward == 1.0 and r.agent == AGENT


def test_collect_failures_are_results_and_the_stream_goes_on(mesh: Mesh, dataset_rows: list[dict[str, Any]]) -> None:
    bad_agent = {**dataset_rows[1], "agent_ref": {"name": "no_such_agent"}}
    rows: list[Any] = [dataset_rows[0], bad_agent, "{not json", {"expected_answer": "C"}, dataset_rows[2]]
    with GymClient(mesh.url("rollout"), timeout=60) as client:
        results = by_key(list(client.collect(rows, repeats=2)))
    assert sorted(results) == [(i, k) for i in range(5) for k in range(2)]
    for i in (0, 4):
        for k in range(2):
            assert_output_line(results[i, k], rows[i])
    for k in range(2):
        r = results[1, k]
        assert not r.ok and r.error is not None and r.reward is None
        assert r.error.code == grpc.StatusCode.NOT_FOUND and r.error.code_name == "NOT_FOUND"
        assert "no_such_agent" in r.error.message
        # The line `gym collect` writes to its failures file.
        assert r.line == {
            **dataset_rows[1],
            "_ng_task_index": 1,
            "_ng_rollout_index": k,
            "agent_ref": {"name": "no_such_agent"},
            "error": {"code": "not_found", "message": r.error.message},
        }
        for i in (2, 3):
            bad = results[i, k]
            assert bad.error is not None and bad.error.code == grpc.StatusCode.INVALID_ARGUMENT, bad
            assert bad.line is not None and bad.line["error"]["code"] == "invalid_argument"
            assert (bad.line["_ng_task_index"], bad.line["_ng_rollout_index"]) == (i, k)
    assert results[3, 0].line is not None and results[3, 0].line["expected_answer"] == "C"


def test_collect_reads_tasks_lazily_within_max_in_flight(mesh: Mesh, dataset_rows: list[dict[str, Any]]) -> None:
    yielded = 0
    ahead: list[int] = []

    def rows() -> Iterator[dict[str, Any]]:
        for k in range(10):
            ahead.append(k - yielded)  # rows pulled but not answered, when row k is pulled
            yield dataset_rows[k % 5]

    with GymClient(mesh.url("rollout"), timeout=60) as client:
        for r in client.collect(rows(), max_in_flight=2):
            assert r.ok
            yielded += 1
    assert yielded == 10
    assert max(ahead) <= 2, ahead


def test_collect_the_callers_errors_are_raised(mesh: Mesh, dataset_rows: list[dict[str, Any]]) -> None:
    with GymClient(mesh.url("rollout"), timeout=60) as client:
        with pytest.raises(ValueError, match="repeats"):
            client.collect(dataset_rows, repeats=0)
        with pytest.raises(ValueError, match="max_in_flight"):
            client.collect(dataset_rows, max_in_flight=0)
        with pytest.raises(TypeError, match="task 1: expected a row"):
            list(client.collect([dataset_rows[0], 42]))  # type: ignore[list-item]
        with pytest.raises(TypeError, match="task 0: the row is not JSON"):
            list(client.collect([{"responses_create_params": {}, "when": object()}]))

        def failing() -> Iterator[dict[str, Any]]:
            yield dataset_rows[0]
            raise OSError("the dataset went away")

        with pytest.raises(OSError, match="the dataset went away"):
            list(client.collect(failing()))


def test_the_wrong_instance_says_which_url_to_use(mesh: Mesh, dataset_rows: list[dict[str, Any]]) -> None:
    with GymClient(mesh.url(AGENT), timeout=30) as client:
        with pytest.raises(GymError) as err:
            list(client.collect(dataset_rows[:1]))
    assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "the rollout instance" in str(err.value) and mesh.url(AGENT) in str(err.value)
    with GymClient(mesh.url("rollout"), timeout=30) as client:
        with pytest.raises(GymError) as err:
            client.run(dataset_rows[0])
    assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "an agent instance" in str(err.value)


def test_a_target_nobody_serves_is_unavailable_after_the_retries(dataset_rows: list[dict[str, Any]]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with GymClient(url, retry=QUICK) as client:
        with pytest.raises(GymError) as err:
            client.run(dataset_rows[0])
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        assert f"cannot reach {url}" in str(err.value) and "gave up after 3 tries" in str(err.value)
        with pytest.raises(GymError) as err:
            list(client.collect(dataset_rows))
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE and "gave up after 3 tries" in str(err.value)

    async def main() -> None:
        async with AsyncGymClient(url, retry=QUICK) as client:
            with pytest.raises(GymError) as err:
                await client.run(dataset_rows[0])
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE and "gave up after 3 tries" in str(err.value)
            with pytest.raises(GymError) as err:
                async for _ in client.collect(dataset_rows):
                    pass
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE

    asyncio.run(main())


# ---------------------------------------------------------------------------
# Deadlines (the lab mesh's slow agent answers in 30 s)


def test_deadlines(lab: Mesh, dataset_rows: list[dict[str, Any]]) -> None:
    with GymClient(lab.url("slow_agent")) as client:
        with pytest.raises(GymError) as err:
            client.run(dataset_rows[0], timeout=0.5)
        assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    with GymClient(lab.url("slow_agent"), timeout=0.5) as client:  # the client's default deadline
        with pytest.raises(GymError) as err:
            client.run(dataset_rows[0])
        assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    with GymClient(lab.url("rollout")) as client:
        with pytest.raises(GymError) as err:
            list(client.collect(dataset_rows, agent="slow_agent", timeout=0.5))
        assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED

    async def main() -> None:
        async with AsyncGymClient(lab.url("slow_agent")) as client:
            with pytest.raises(GymError) as err:
                await client.run(dataset_rows[0], timeout=0.5)
            assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        async with AsyncGymClient(lab.url("rollout")) as client:
            with pytest.raises(GymError) as err:
                async for _ in client.collect(dataset_rows, agent="slow_agent", timeout=0.5):
                    pass
            assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED

    asyncio.run(main())
    wait_for_no_rollouts(lab)


# ---------------------------------------------------------------------------
# AsyncGymClient


def test_async_run_and_collect(mesh: Mesh, dataset_rows: list[dict[str, Any]], dataset_lines: list[str]) -> None:
    async def rows() -> AsyncIterator[Any]:
        for i, line in enumerate(dataset_lines):
            yield line if i % 2 else dataset_rows[i]
            await asyncio.sleep(0)

    async def main() -> None:
        async with AsyncGymClient(mesh.url(AGENT), timeout=30) as client:
            r = await client.run(dataset_lines[2])
            assert r.ok and r.reward == 1.0 and r.line is not None and r.line["agent_ref"] == {"name": AGENT}
            typed = await client.run(weather_task(), rollout_id="a-1")
            assert typed.rollout is not None and typed.rollout.rollout_id == "a-1"
        async with AsyncGymClient(mesh.url("rollout"), timeout=60) as client:
            got = by_key([r async for r in client.collect(rows(), repeats=2, max_in_flight=3)])
            assert sorted(got) == [(i, k) for i in range(5) for k in range(2)]
            for (i, _), res in got.items():
                assert_output_line(res, dataset_rows[i])
            mixed = by_key([r async for r in client.collect([weather_task(), {"x": 1}])])
            assert mixed[0, 0].rollout is not None and mixed[0, 0].reward == 1.0
            assert mixed[1, 0].error is not None and mixed[1, 0].error.code == grpc.StatusCode.INVALID_ARGUMENT

    asyncio.run(main())


# ---------------------------------------------------------------------------
# Cancellation: the mesh stops the rollouts of a cancelled stream


def wait_for_no_rollouts(lab: Mesh, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        running = {name: lab.metric(name, "gym_rollouts_in_flight") for name in ("rollout", "slow_agent")}
        if not any(running.values()):
            return
        assert time.monotonic() < deadline, f"rollouts still running on the mesh: {running}"
        time.sleep(0.1)


def wait_for_rollouts(lab: Mesh, n: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while lab.metric("slow_agent", "gym_rollouts_in_flight") < n:
        assert time.monotonic() < deadline, "the slow rollouts did not start"
        time.sleep(0.05)


def test_cancelling_the_asyncio_task_stops_the_rollouts(lab: Mesh, dataset_rows: list[dict[str, Any]]) -> None:
    wait_for_no_rollouts(lab)

    async def main() -> None:
        async with AsyncGymClient(lab.url("rollout")) as client:
            seen: list[Result] = []

            async def consume() -> None:
                async for r in client.collect(dataset_rows, repeats=2, agent="slow_agent"):
                    seen.append(r)

            task = asyncio.create_task(consume())
            await asyncio.to_thread(wait_for_rollouts, lab, 10)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert seen == []
            await asyncio.to_thread(wait_for_no_rollouts, lab, 5)

    asyncio.run(main())


def test_closing_the_iterator_stops_the_rollouts(lab: Mesh, dataset_rows: list[dict[str, Any]]) -> None:
    wait_for_no_rollouts(lab)
    # One fast row, then slow ones (rows pick their agent with agent_ref).
    rows = [{**dataset_rows[0], "agent_ref": {"name": "weather_agent"}}] + [
        {**row, "agent_ref": {"name": "slow_agent"}} for row in dataset_rows
    ]
    with GymClient(lab.url("rollout")) as client:
        results = client.collect(rows)
        first = next(results)
        assert first.ok and first.index == 0
        wait_for_rollouts(lab, 5)
        results.close()  # what leaving a `for` loop early does
        wait_for_no_rollouts(lab, 5)

    async def main() -> None:
        async with AsyncGymClient(lab.url("rollout")) as client:
            async for r in client.collect(rows):
                assert r.index == 0
                await asyncio.to_thread(wait_for_rollouts, lab, 5)
                break
        await asyncio.to_thread(wait_for_no_rollouts, lab, 5)

    asyncio.run(main())


def test_a_broken_stream_never_loses_what_an_async_source_was_yielding() -> None:
    """The request iterator of a stream that breaks is cancelled, maybe while
    it waits for the caller's async iterable: the row it waited for goes out
    on the next stream, and the caller's iterable is not cancelled."""
    from gymmesh.aio import _AsyncPlan

    async def main() -> None:
        release = asyncio.Event()
        rows = [{"responses_create_params": {"input": f"q{i}"}} for i in range(3)]

        async def source() -> AsyncIterator[dict[str, Any]]:
            yield rows[0]
            await release.wait()  # the stream breaks while the plan waits here
            yield rows[1]
            yield rows[2]

        plan = _AsyncPlan(source(), 1, "", False, 8)
        first = plan.requests(plan.generation)
        assert (await first.__anext__()).task_id == "0.0"
        waiting = asyncio.ensure_future(first.__anext__())
        await asyncio.sleep(0.05)
        waiting.cancel()  # what grpc.aio does to the request iterator of a broken stream
        with pytest.raises(asyncio.CancelledError):
            await waiting
        plan.next_generation()
        release.set()
        second = [r.task_id async for r in plan.requests(plan.generation)]
        assert second == ["0.0", "1.0", "2.0"]  # the unanswered one again, then the rest
        assert plan.answered("0.0") and plan.answered("1.0") and plan.answered("2.0")
        assert plan.finished()

    asyncio.run(main())

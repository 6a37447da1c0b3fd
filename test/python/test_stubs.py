"""The generated gymmesh.v1 stubs against a real mesh (the default config:
the example_single_tool_call environment driven by the mock model): the raw
path (rows in, NeMo Gym lines out) and the typed one."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

import grpc
import pytest
from conftest import REPO, Mesh, weather_task

from gymmesh import GymClient, status_code
from gymmesh.v1 import (
    agent_pb2,
    agent_pb2_grpc,
    resources_pb2,
    resources_pb2_grpc,
    responses_pb2,
    rollout_pb2,
    rollout_pb2_grpc,
    task_pb2,
)

AGENT = "example_single_tool_call_simple_agent"
WEATHER_OUTPUT = '{"city": "San Francisco", "weather_description": "The weather in San Francisco is cold."}'
RPC_TIMEOUT_S = 30
# NeMo Gym's data files (see testing/data/nemo-gym/README.md): files.txt lists them as
# `<environment>/<file>`; each is there or in its ported environment's data/.
NEMO_GYM_DATA = REPO / "testing" / "data" / "nemo-gym"
ENVIRONMENTS = REPO / "services" / "environments"


def kinds(items: Any) -> list[str | None]:
    return [i.WhichOneof("kind") for i in items]


def assert_weather_trajectory(rollout: task_pb2.Rollout) -> None:
    output = list(rollout.response.output)
    assert kinds(output) == ["function_call", "function_call_output", "message"], output
    call, result, answer = output[0].function_call, output[1].function_call_output, output[2].message
    assert call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "San Francisco"}
    assert call.call_id, "the function call has no call_id"
    assert result.call_id == call.call_id
    assert result.output == WEATHER_OUTPUT
    assert answer.role == responses_pb2.ROLE_ASSISTANT
    assert answer.WhichOneof("content") in ("text", "parts")
    if answer.WhichOneof("content") == "parts":
        assert any(p.WhichOneof("kind") == "output_text" and p.output_text.text for p in answer.parts.parts)
    assert rollout.verdict.reward == 1.0
    assert rollout.steps == 2


def assert_weather_line(line: dict[str, Any], row: dict[str, Any]) -> None:
    """A NeMo Gym output line: the row as it came, plus the rollout."""
    for key, value in row.items():
        assert line[key] == value, key
    output = line["response"]["output"]
    assert [o["type"] for o in output] == ["function_call", "function_call_output", "message"]
    assert output[0]["name"] == "get_weather" and json.loads(output[0]["arguments"]) == {"city": "San Francisco"}
    assert output[1]["output"] == WEATHER_OUTPUT and output[1]["call_id"] == output[0]["call_id"]
    assert output[2]["role"] == "assistant"
    assert line["reward"] == 1.0
    assert line["agent_ref"] == {"name": AGENT}


# ---------------------------------------------------------------------------
# The mesh


def test_serve_lists_every_instance(mesh: Mesh) -> None:
    services = {name: inst.service for name, inst in mesh.instances.items()}
    assert services[AGENT] == "gymmesh.v1.AgentService"
    assert services["rollout"] == "gymmesh.v1.RolloutService"
    assert services["example_single_tool_call"] == "gymmesh.v1.ResourcesService"
    assert services["policy_model"] == "gymmesh.v1.ModelService"
    assert "mock_openai" in services
    for inst in mesh.instances.values():
        assert inst.url.startswith("http://127.0.0.1:")
        assert int(inst.url.rsplit(":", 1)[1]) > 0
    # Every gRPC instance also has a grpc-js port; the mock model (plain HTTP) has none.
    assert mesh.instances["mock_openai"].grpc_url is None
    for name in (AGENT, "rollout", "example_single_tool_call", "policy_model"):
        grpc_url = mesh.instances[name].grpc_url
        assert grpc_url is not None and grpc_url.startswith("grpc://127.0.0.1:")


def test_collect_over_the_grpc_js_port(mesh: Mesh, dataset_rows: list[dict[str, Any]]) -> None:
    """grpcio reaches the grpc-js port as it does the main one (the bidirectional Collect stream)."""
    grpc_url = mesh.instances["rollout"].grpc_url
    assert grpc_url is not None
    with GymClient(grpc_url, timeout=60) as client:
        results = list(client.collect(dataset_rows, repeats=2))
    assert sorted((r.index, r.repeat) for r in results) == [(i, k) for i in range(5) for k in range(2)]
    assert all(r.ok and r.reward == 1.0 for r in results)


# ---------------------------------------------------------------------------
# (a) one rollout with AgentService.Run


def test_run_one_rollout_typed(agent_channel: grpc.Channel) -> None:
    stub = agent_pb2_grpc.AgentServiceStub(agent_channel)
    task = weather_task()
    res = stub.Run(agent_pb2.RunRequest(task=task, rollout_id="py-run-0"), timeout=RPC_TIMEOUT_S)
    rollout = res.rollout
    assert rollout.rollout_id == "py-run-0"
    assert rollout.task == task
    assert_weather_trajectory(rollout)
    assert rollout.timings.total.ToTimedelta().total_seconds() > 0
    assert res.output_line_json == ""  # not asked for


def test_run_one_raw_row(agent_channel: grpc.Channel, dataset_lines: list[str]) -> None:
    """A dataset line as it is in, the NeMo Gym output line out: no converter in the client."""
    stub = agent_pb2_grpc.AgentServiceStub(agent_channel)
    res = stub.Run(agent_pb2.RunRequest(row_json=dataset_lines[0], want_output_line=True), timeout=RPC_TIMEOUT_S)
    assert_weather_line(json.loads(res.output_line_json), json.loads(dataset_lines[0]))
    # The typed rollout comes along.
    assert_weather_trajectory(res.rollout)


def test_run_makes_up_a_rollout_id(agent_channel: grpc.Channel) -> None:
    stub = agent_pb2_grpc.AgentServiceStub(agent_channel)
    res = stub.Run(agent_pb2.RunRequest(task=weather_task("weather in sf?")), timeout=RPC_TIMEOUT_S)
    assert res.rollout.rollout_id != ""
    assert res.rollout.verdict.reward == 1.0


def test_run_takes_the_rollout_id_from_x_request_id(agent_channel: grpc.Channel) -> None:
    stub = agent_pb2_grpc.AgentServiceStub(agent_channel)
    res = stub.Run(agent_pb2.RunRequest(task=weather_task()), timeout=RPC_TIMEOUT_S, metadata=(("x-request-id", "py-req-7"),))
    assert res.rollout.rollout_id == "py-req-7"


# ---------------------------------------------------------------------------
# (b) many rollouts with RolloutService.Collect


def test_collect_typed_tasks_twice(rollout_channel: grpc.Channel) -> None:
    stub = rollout_pb2_grpc.RolloutServiceStub(rollout_channel)
    tasks = {f"row-{i}": weather_task(f"what's it like in sf? ({i})") for i in range(5)}
    requests = [rollout_pb2.CollectRequest(task_id=k, task=t, num_repeats=2) for k, t in tasks.items()]
    results = list(stub.Collect(iter(requests), timeout=60))
    assert len(results) == 10
    repeats: dict[str, set[int]] = defaultdict(set)
    for r in results:
        assert r.WhichOneof("outcome") == "rollout", f"{r.task_id}/{r.repeat_index}: {r.error}"
        assert r.agent == AGENT
        assert r.rollout.verdict.reward == 1.0
        assert r.rollout.task == tasks[r.task_id]
        assert r.repeat_index not in repeats[r.task_id], f"repeat {r.repeat_index} of {r.task_id} came twice"
        repeats[r.task_id].add(r.repeat_index)
    assert dict(repeats) == {f"row-{i}": {0, 1} for i in range(5)}


def test_collect_raw_rows_give_output_lines(rollout_channel: grpc.Channel, dataset_lines: list[str]) -> None:
    stub = rollout_pb2_grpc.RolloutServiceStub(rollout_channel)
    requests = [
        rollout_pb2.CollectRequest(task_id=f"t{i}", row_json=line, num_repeats=2, want_output_lines=True, task_index=i)
        for i, line in enumerate(dataset_lines)
    ]
    results = list(stub.Collect(iter(requests), timeout=60))
    seen = set()
    for r in results:
        assert r.WhichOneof("outcome") == "output_line_json", r.error
        line = json.loads(r.output_line_json)
        i = int(r.task_id[1:])
        assert_weather_line(line, json.loads(dataset_lines[i]))
        assert (line["_ng_task_index"], line["_ng_rollout_index"]) == (i, r.repeat_index)
        seen.add((i, r.repeat_index))
    assert seen == {(i, k) for i in range(5) for k in range(2)}


def test_collect_first_repeat_numbers_the_repeats(rollout_channel: grpc.Channel, dataset_lines: list[str]) -> None:
    """A group's repeats sent separately (or again after a broken stream) keep their numbers."""
    stub = rollout_pb2_grpc.RolloutServiceStub(rollout_channel)
    req = rollout_pb2.CollectRequest(task_id="g", row_json=dataset_lines[0], num_repeats=2, first_repeat=3, want_output_lines=True)
    results = list(stub.Collect(iter([req]), timeout=60))
    assert sorted(r.repeat_index for r in results) == [3, 4]
    assert sorted(json.loads(r.output_line_json)["_ng_rollout_index"] for r in results) == [3, 4]


def test_collect_num_repeats_zero_means_one(rollout_channel: grpc.Channel) -> None:
    stub = rollout_pb2_grpc.RolloutServiceStub(rollout_channel)
    req = rollout_pb2.CollectRequest(task_id="zero", task=weather_task(), num_repeats=0)
    results = list(stub.Collect(iter([req]), timeout=60))
    assert [(r.task_id, r.repeat_index) for r in results] == [("zero", 0)]


def test_collect_empty_stream(rollout_channel: grpc.Channel) -> None:
    stub = rollout_pb2_grpc.RolloutServiceStub(rollout_channel)
    assert list(stub.Collect(iter([]), timeout=RPC_TIMEOUT_S)) == []


# ---------------------------------------------------------------------------
# (c) RunStream


def test_run_stream_items_then_rollout(agent_channel: grpc.Channel) -> None:
    stub = agent_pb2_grpc.AgentServiceStub(agent_channel)
    events = list(stub.RunStream(agent_pb2.RunStreamRequest(task=weather_task(), rollout_id="py-stream"), timeout=RPC_TIMEOUT_S))
    assert len(events) >= 2
    assert [e.WhichOneof("event") for e in events] == ["item"] * (len(events) - 1) + ["rollout"]
    rollout = events[-1].rollout
    assert rollout.rollout_id == "py-stream"
    assert_weather_trajectory(rollout)
    # The streamed items are the trajectory, in order.
    assert [e.item for e in events[:-1]] == list(rollout.response.output)


def test_run_stream_takes_a_raw_row(agent_channel: grpc.Channel, dataset_lines: list[str]) -> None:
    stub = agent_pb2_grpc.AgentServiceStub(agent_channel)
    events = list(stub.RunStream(agent_pb2.RunStreamRequest(row_json=dataset_lines[1]), timeout=RPC_TIMEOUT_S))
    assert_weather_trajectory(events[-1].rollout)


# ---------------------------------------------------------------------------
# (d) bad input


def test_run_without_responses_create_params_is_invalid_argument(agent_channel: grpc.Channel) -> None:
    stub = agent_pb2_grpc.AgentServiceStub(agent_channel)
    for req in (
        agent_pb2.RunRequest(task=task_pb2.Task()),
        agent_pb2.RunRequest(),
        agent_pb2.RunRequest(row_json='{"expected_answer": "C"}'),
        agent_pb2.RunRequest(row_json="not json"),
    ):
        with pytest.raises(grpc.RpcError) as err:
            stub.Run(req, timeout=RPC_TIMEOUT_S)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()


def test_run_stream_without_task_is_invalid_argument(agent_channel: grpc.Channel) -> None:
    stub = agent_pb2_grpc.AgentServiceStub(agent_channel)
    with pytest.raises(grpc.RpcError) as err:
        list(stub.RunStream(agent_pb2.RunStreamRequest(), timeout=RPC_TIMEOUT_S))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()


def test_collect_unknown_agent_fails_only_its_task(rollout_channel: grpc.Channel, dataset_lines: list[str]) -> None:
    stub = rollout_pb2_grpc.RolloutServiceStub(rollout_channel)
    requests = [
        rollout_pb2.CollectRequest(task_id="ok-0", task=weather_task()),
        rollout_pb2.CollectRequest(task_id="bad", task=weather_task(), agent="no_such_agent"),
        rollout_pb2.CollectRequest(task_id="ok-1", row_json=dataset_lines[2], num_repeats=2, want_output_lines=True),
        rollout_pb2.CollectRequest(task_id="no-params", task=task_pb2.Task()),
        rollout_pb2.CollectRequest(task_id="bad-json", row_json="{", want_output_lines=True),
        rollout_pb2.CollectRequest(task_id="no-input"),
    ]
    results = list(stub.Collect(iter(requests), timeout=60))
    by_id = defaultdict(list)
    for r in results:
        by_id[r.task_id].append(r)
    assert {k: len(v) for k, v in by_id.items()} == {"ok-0": 1, "bad": 1, "ok-1": 2, "no-params": 1, "bad-json": 1, "no-input": 1}

    bad = by_id["bad"][0]
    assert bad.WhichOneof("outcome") == "error"
    assert status_code(bad.error.code) == grpc.StatusCode.NOT_FOUND
    assert "no_such_agent" in bad.error.message
    assert bad.agent == "no_such_agent"
    for name in ("no-params", "bad-json", "no-input"):
        failed = by_id[name][0]
        assert failed.WhichOneof("outcome") == "error"
        assert status_code(failed.error.code) == grpc.StatusCode.INVALID_ARGUMENT, (name, failed.error)

    assert by_id["ok-0"][0].rollout.verdict.reward == 1.0
    for r in by_id["ok-1"]:
        assert r.WhichOneof("outcome") == "output_line_json", r.error
        assert json.loads(r.output_line_json)["reward"] == 1.0
    assert sorted(r.repeat_index for r in by_id["ok-1"]) == [0, 1]


def nemo_gym_file(name: str) -> Path:
    env, _, rest = name.partition("/")
    fixture, ported = NEMO_GYM_DATA / name, ENVIRONMENTS / env / "data" / rest
    assert not (fixture.exists() and ported.exists()), f"NeMo Gym data {name} is in both {fixture} and {ported}"
    assert fixture.exists() or ported.exists(), f"NeMo Gym data {name} is missing: neither {fixture} nor {ported} exists"
    return fixture if fixture.exists() else ported


def test_every_nemo_gym_example_row_reads_on_the_raw_path(rollout_channel: grpc.Channel) -> None:
    """Every row of every NeMo Gym `<environment>/example.jsonl` goes on the wire
    as it is (`row_json`) and the server reads it: run by an agent that does not
    exist, each fails NOT_FOUND (the agent), never INVALID_ARGUMENT (the row)."""
    listed = [line.strip() for line in (NEMO_GYM_DATA / "files.txt").read_text().splitlines()]
    names = sorted(n for n in listed if n and not n.startswith("#") and n.count("/") == 1 and n.endswith("/example.jsonl"))
    lines = [
        (f"{name}:{n}", text)
        for name in names
        for n, text in enumerate(nemo_gym_file(name).read_text().splitlines(), 1)
        if text.strip()
    ]
    assert len({where.partition("/")[0] for where, _ in lines}) == 13
    assert len(lines) == 65
    stub = rollout_pb2_grpc.RolloutServiceStub(rollout_channel)
    requests = [rollout_pb2.CollectRequest(task_id=where, row_json=text, agent="no_such_agent", want_output_lines=True) for where, text in lines]
    results = {r.task_id: r for r in stub.Collect(iter(requests), timeout=60)}
    assert set(results) == {where for where, _ in lines}
    for where, r in results.items():
        assert r.WhichOneof("outcome") == "error", where
        assert status_code(r.error.code) == grpc.StatusCode.NOT_FOUND, f"{where}: {r.error.message}"


@pytest.fixture
def session(resources_channel: grpc.Channel) -> Any:
    stub = resources_pb2_grpc.ResourcesServiceStub(resources_channel)
    seeded = stub.SeedSession(
        resources_pb2.SeedSessionRequest(task=weather_task()), timeout=RPC_TIMEOUT_S, metadata=(("x-request-id", "py-tools"),)
    )
    assert seeded.session_id
    yield stub, seeded.session_id
    stub.CloseSession(resources_pb2.CloseSessionRequest(session_id=seeded.session_id), timeout=RPC_TIMEOUT_S)


def test_list_tools(resources_channel: grpc.Channel) -> None:
    stub = resources_pb2_grpc.ResourcesServiceStub(resources_channel)
    tools = stub.ListTools(resources_pb2.ListToolsRequest(), timeout=RPC_TIMEOUT_S).tools
    assert [t.name for t in tools] == ["get_weather"]
    parameters = json.loads(tools[0].parameters_json)
    assert parameters["type"] == "object"
    assert "city" in parameters["properties"]


def test_call_tool_ok(session: Any) -> None:
    stub, sid = session
    res = stub.CallTool(
        resources_pb2.CallToolRequest(session_id=sid, name="get_weather", arguments='{"city": "San Francisco"}', call_id="c1"),
        timeout=RPC_TIMEOUT_S,
    )
    assert res.output == WEATHER_OUTPUT


def test_call_tool_unknown_tool_is_not_found(session: Any) -> None:
    stub, sid = session
    with pytest.raises(grpc.RpcError) as err:
        stub.CallTool(
            resources_pb2.CallToolRequest(session_id=sid, name="no_such_tool", arguments="{}", call_id="c2"),
            timeout=RPC_TIMEOUT_S,
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND, err.value.details()
    assert "no_such_tool" in err.value.details()


@pytest.mark.parametrize(
    "arguments",
    [
        '{"city": ',  # not JSON
        "not json at all",
        '{"town": "Paris"}',  # JSON, but not the tool's schema
        '{"city": 42}',
    ],
)
def test_call_tool_bad_arguments_is_invalid_argument(session: Any, arguments: str) -> None:
    stub, sid = session
    with pytest.raises(grpc.RpcError) as err:
        stub.CallTool(
            resources_pb2.CallToolRequest(session_id=sid, name="get_weather", arguments=arguments, call_id="c3"),
            timeout=RPC_TIMEOUT_S,
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()


# ---------------------------------------------------------------------------
# (e) a task without tools


def test_task_without_tools_gets_reward_zero(agent_channel: grpc.Channel) -> None:
    stub = agent_pb2_grpc.AgentServiceStub(agent_channel)
    rollout = stub.Run(agent_pb2.RunRequest(task=weather_task(tools=False)), timeout=RPC_TIMEOUT_S).rollout
    assert rollout.verdict.reward == 0.0
    assert rollout.steps == 1
    assert kinds(rollout.response.output) == ["message"]
    assert rollout.response.output[0].message.role == responses_pb2.ROLE_ASSISTANT


def test_string_input_without_tools(agent_channel: grpc.Channel) -> None:
    stub = agent_pb2_grpc.AgentServiceStub(agent_channel)
    params = responses_pb2.ResponseCreateParams(input_text="what's it like in sf?")
    task = task_pb2.Task(responses_create_params=params, extra_json='{"note": "no tools"}')
    rollout = stub.Run(agent_pb2.RunRequest(task=task), timeout=RPC_TIMEOUT_S).rollout
    assert rollout.verdict.reward == 0.0
    assert json.loads(rollout.task.extra_json)["note"] == "no tools"


def test_raw_row_keeps_its_own_fields(agent_channel: grpc.Channel) -> None:
    """Fields of the row the schema does not know come back in the line as they were."""
    stub = agent_pb2_grpc.AgentServiceStub(agent_channel)
    row = {"responses_create_params": {"input": "what's it like in sf?"}, "note": "no tools", "nested": {"a": [1, 2.5, None, "é"]}}
    res = stub.Run(agent_pb2.RunRequest(row_json=json.dumps(row), want_output_line=True), timeout=RPC_TIMEOUT_S)
    line = json.loads(res.output_line_json)
    assert {k: line[k] for k in row} == row
    assert line["reward"] == 0.0


@pytest.mark.xfail(strict=True, reason="the server parses row_json with JSON.parse: integers past 2**53 lose digits")
def test_raw_row_keeps_big_integers(agent_channel: grpc.Channel) -> None:
    stub = agent_pb2_grpc.AgentServiceStub(agent_channel)
    row = {"responses_create_params": {"input": "what's it like in sf?"}, "id": 12345678901234567}
    res = stub.Run(agent_pb2.RunRequest(row_json=json.dumps(row), want_output_line=True), timeout=RPC_TIMEOUT_S)
    assert json.loads(res.output_line_json)["id"] == 12345678901234567


# ---------------------------------------------------------------------------
# More of the contract


def test_collect_streams_results_before_the_client_half_closes(rollout_channel: grpc.Channel) -> None:
    # A trainer may decide what to send next from the results so far: the
    # first result must arrive while the request stream is still open.
    stub = rollout_pb2_grpc.RolloutServiceStub(rollout_channel)
    got_first = threading.Event()

    def requests() -> Any:
        yield rollout_pb2.CollectRequest(task_id="first", task=weather_task())
        assert got_first.wait(timeout=RPC_TIMEOUT_S), "no result before the request stream ended"
        yield rollout_pb2.CollectRequest(task_id="second", task=weather_task())

    seen = []
    for r in stub.Collect(requests(), timeout=60):
        seen.append(r.task_id)
        got_first.set()
    assert seen == ["first", "second"]


def test_call_tool_output_is_python_json_dumps(session: Any) -> None:
    # Tool outputs are byte-identical to NeMo Gym's Python servers (json.dumps defaults).
    stub, sid = session
    city = "Zürich 😀 \x7f\n\"q\""
    res = stub.CallTool(
        resources_pb2.CallToolRequest(session_id=sid, name="get_weather", arguments=json.dumps({"city": city})),
        timeout=RPC_TIMEOUT_S,
    )
    assert res.output == json.dumps({"city": city, "weather_description": f"The weather in {city} is cold."})


def test_call_tool_unknown_session_is_aborted(resources_channel: grpc.Channel) -> None:
    # As when the session's server restarted: the rollout starts again with a new session.
    stub = resources_pb2_grpc.ResourcesServiceStub(resources_channel)
    with pytest.raises(grpc.RpcError) as err:
        stub.CallTool(
            resources_pb2.CallToolRequest(session_id="no-such-session", name="get_weather", arguments='{"city": "x"}'),
            timeout=RPC_TIMEOUT_S,
        )
    assert err.value.code() == grpc.StatusCode.ABORTED, err.value.details()
    assert "no-such-session" in err.value.details()


def test_rollout_feeds_tool_errors_back_to_the_model(agent_channel: grpc.Channel, dataset_rows: list[dict[str, Any]]) -> None:
    # An unknown tool is the model's mistake: the error is the tool's output,
    # the rollout goes on, and this verifier gives 0 (no get_weather call).
    stub = agent_pb2_grpc.AgentServiceStub(agent_channel)
    row = json.loads(json.dumps(dataset_rows[0]))
    row["responses_create_params"]["tools"][0]["name"] = "get_forecast"
    rollout = stub.Run(agent_pb2.RunRequest(row_json=json.dumps(row)), timeout=RPC_TIMEOUT_S).rollout
    assert kinds(rollout.response.output) == ["function_call", "function_call_output", "message"]
    assert rollout.response.output[0].function_call.name == "get_forecast"
    error = json.loads(rollout.response.output[1].function_call_output.output)
    assert "get_forecast" in error["error"]
    assert rollout.verdict.reward == 0.0


def test_health_check(mesh: Mesh) -> None:
    # grpc.health.v1.Health/Check, without the grpcio-health-checking package:
    # HealthCheckRequest{service} is field 1 (string); the response's status
    # is field 1 (enum), SERVING = 1.
    ch = mesh.channel("gymmesh.v1.RolloutService")
    check = ch.unary_unary("/grpc.health.v1.Health/Check", request_serializer=bytes, response_deserializer=bytes)
    name = b"gymmesh.v1.RolloutService"
    assert check(b"", timeout=RPC_TIMEOUT_S) == b"\x08\x01"
    assert check(b"\x0a" + bytes([len(name)]) + name, timeout=RPC_TIMEOUT_S) == b"\x08\x01"


def test_a_leading_byte_order_mark_survives_the_python_stubs() -> None:
    # NeMo Gym's json.loads rejects text starting with U+FEFF: it must reach the verifier as it was.
    from gymmesh.v1 import responses_pb2

    text = "\ufeff{\"name\": \"Ada\"}"
    part = responses_pb2.OutputText(text=text)
    assert responses_pb2.OutputText.FromString(part.SerializeToString()).text == text

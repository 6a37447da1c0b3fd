"""The generated Python client against a real mesh (the default config: the
example_single_tool_call environment driven by the mock model)."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from pathlib import Path

import grpc
import pytest
from gym.v1 import (
    agent_pb2,
    agent_pb2_grpc,
    resources_pb2,
    resources_pb2_grpc,
    rollout_pb2,
    rollout_pb2_grpc,
    task_pb2,
)
from gym_mesh import JsonShapeError, collect, connect, target_of, task_from_row, task_to_row

AGENT = "example_single_tool_call_simple_agent"
WEATHER_OUTPUT = '{"city": "San Francisco", "weather_description": "The weather in San Francisco is cold."}'
RPC_TIMEOUT_S = 30
REPO = Path(__file__).resolve().parents[2]
# NeMo Gym's data files (see testing/data/nemo-gym/README.md): files.txt lists them as
# `<environment>/<file>`; each is there or in its ported environment's data/.
NEMO_GYM_DATA = REPO / "testing" / "data" / "nemo-gym"
ENVIRONMENTS = REPO / "services" / "environments"


def kinds(items) -> list[str]:
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
    assert answer.role == "assistant"
    assert answer.WhichOneof("content") in ("text", "parts")
    if answer.WhichOneof("content") == "parts":
        assert any(p.WhichOneof("kind") == "output_text" and p.output_text.text for p in answer.parts.parts)
    assert rollout.verdict.reward == 1.0
    assert rollout.steps == 2


# ---------------------------------------------------------------------------
# The mesh


def test_serve_lists_every_instance(mesh):
    services = {name: inst.service for name, inst in mesh.instances.items()}
    assert services[AGENT] == "gym.v1.AgentService"
    assert services["rollout"] == "gym.v1.RolloutService"
    assert services["example_single_tool_call"] == "gym.v1.ResourcesService"
    assert services["policy_model"] == "gym.v1.ModelService"
    assert "mock_openai" in services
    for inst in mesh.instances.values():
        assert inst.url.startswith("http://127.0.0.1:")
        assert int(inst.url.rsplit(":", 1)[1]) > 0
    # Every gRPC instance also has a grpc-js port; the mock model (plain HTTP) has none.
    assert mesh.instances["mock_openai"].grpc_url is None
    for name in (AGENT, "rollout", "example_single_tool_call", "policy_model"):
        assert mesh.instances[name].grpc_url.startswith("grpc://127.0.0.1:")


def test_collect_over_the_grpc_js_port(mesh, dataset_rows):
    """grpcio reaches the grpc-js port as it does the main one (the bidirectional Collect stream)."""
    channel = connect(mesh.instances["rollout"].grpc_url)
    try:
        results = list(collect(channel, dataset_rows, num_repeats=2, timeout=60))
    finally:
        channel.close()
    assert sorted((r.task_id, r.repeat_index) for r in results) == sorted((str(i), k) for i in range(5) for k in range(2))
    assert all(r.WhichOneof("outcome") == "rollout" and r.rollout.verdict.reward == 1.0 for r in results)


# ---------------------------------------------------------------------------
# (a) one rollout with AgentService.Run


def test_run_one_rollout(agent_channel, dataset_rows):
    stub = agent_pb2_grpc.AgentServiceStub(agent_channel)
    task = task_from_row(dataset_rows[0])
    res = stub.Run(agent_pb2.RunRequest(task=task, rollout_id="py-run-0"), timeout=RPC_TIMEOUT_S)
    rollout = res.rollout
    assert rollout.rollout_id == "py-run-0"
    assert rollout.task == task
    assert_weather_trajectory(rollout)
    assert rollout.timings.total_ms > 0


def test_run_makes_up_a_rollout_id(agent_channel, dataset_rows):
    stub = agent_pb2_grpc.AgentServiceStub(agent_channel)
    res = stub.Run(agent_pb2.RunRequest(task=task_from_row(dataset_rows[1])), timeout=RPC_TIMEOUT_S)
    assert res.rollout.rollout_id != ""
    assert res.rollout.verdict.reward == 1.0


# ---------------------------------------------------------------------------
# (b) many rollouts with RolloutService.Collect


def test_collect_all_rows_twice(rollout_channel, dataset_rows):
    stub = rollout_pb2_grpc.RolloutServiceStub(rollout_channel)
    assert len(dataset_rows) == 5
    tasks = [(f"row-{i}", task_from_row(row)) for i, row in enumerate(dataset_rows)]
    results = list(collect(stub, tasks, num_repeats=2, timeout=60))
    assert len(results) == 10
    repeats: dict[str, set[int]] = defaultdict(set)
    for r in results:
        assert r.WhichOneof("outcome") == "rollout", f"{r.task_id}/{r.repeat_index}: {r.error}"
        assert r.agent == AGENT
        assert r.rollout.verdict.reward == 1.0
        assert r.rollout.task == dict(tasks)[r.task_id]
        assert r.repeat_index not in repeats[r.task_id], f"repeat {r.repeat_index} of {r.task_id} came twice"
        repeats[r.task_id].add(r.repeat_index)
    assert dict(repeats) == {f"row-{i}": {0, 1} for i in range(5)}


def test_collect_accepts_rows_and_a_channel(rollout_channel, dataset_rows):
    # gym_mesh.collect converts dict rows itself; bare tasks get their index as id.
    results = list(collect(rollout_channel, dataset_rows[:2], timeout=60))
    assert sorted(r.task_id for r in results) == ["0", "1"]
    assert all(r.repeat_index == 0 and r.rollout.verdict.reward == 1.0 for r in results)


def test_collect_num_repeats_zero_means_one(rollout_channel, dataset_rows):
    stub = rollout_pb2_grpc.RolloutServiceStub(rollout_channel)
    req = rollout_pb2.CollectRequest(task_id="zero", task=task_from_row(dataset_rows[0]), num_repeats=0)
    results = list(stub.Collect(iter([req]), timeout=60))
    assert [(r.task_id, r.repeat_index) for r in results] == [("zero", 0)]


def test_collect_empty_stream(rollout_channel):
    stub = rollout_pb2_grpc.RolloutServiceStub(rollout_channel)
    assert list(stub.Collect(iter([]), timeout=RPC_TIMEOUT_S)) == []


# ---------------------------------------------------------------------------
# (c) RunStream


def test_run_stream_items_then_rollout(agent_channel, dataset_rows):
    stub = agent_pb2_grpc.AgentServiceStub(agent_channel)
    task = task_from_row(dataset_rows[2])
    events = list(stub.RunStream(agent_pb2.RunStreamRequest(task=task, rollout_id="py-stream"), timeout=RPC_TIMEOUT_S))
    assert len(events) >= 2
    assert [e.WhichOneof("event") for e in events] == ["item"] * (len(events) - 1) + ["rollout"]
    rollout = events[-1].rollout
    assert rollout.rollout_id == "py-stream"
    assert_weather_trajectory(rollout)
    # The streamed items are the trajectory, in order.
    assert [e.item for e in events[:-1]] == list(rollout.response.output)


# ---------------------------------------------------------------------------
# (d) bad input


def test_run_without_responses_create_params_is_invalid_argument(agent_channel):
    stub = agent_pb2_grpc.AgentServiceStub(agent_channel)
    for req in (agent_pb2.RunRequest(task=task_pb2.Task()), agent_pb2.RunRequest()):
        with pytest.raises(grpc.RpcError) as err:
            stub.Run(req, timeout=RPC_TIMEOUT_S)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()


def test_run_stream_without_task_is_invalid_argument(agent_channel):
    stub = agent_pb2_grpc.AgentServiceStub(agent_channel)
    with pytest.raises(grpc.RpcError) as err:
        list(stub.RunStream(agent_pb2.RunStreamRequest(), timeout=RPC_TIMEOUT_S))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()


def test_collect_unknown_agent_fails_only_its_task(rollout_channel, dataset_rows):
    stub = rollout_pb2_grpc.RolloutServiceStub(rollout_channel)
    requests = [
        rollout_pb2.CollectRequest(task_id="ok-0", task=task_from_row(dataset_rows[0])),
        rollout_pb2.CollectRequest(task_id="bad", task=task_from_row(dataset_rows[1]), agent="no_such_agent"),
        rollout_pb2.CollectRequest(task_id="ok-1", task=task_from_row(dataset_rows[2]), num_repeats=2),
        rollout_pb2.CollectRequest(task_id="no-params", task=task_pb2.Task()),
    ]
    results = list(stub.Collect(iter(requests), timeout=60))
    by_id = defaultdict(list)
    for r in results:
        by_id[r.task_id].append(r)
    assert {k: len(v) for k, v in by_id.items()} == {"ok-0": 1, "bad": 1, "ok-1": 2, "no-params": 1}

    bad = by_id["bad"][0]
    assert bad.WhichOneof("outcome") == "error"
    assert bad.error.code == "not_found"
    assert "no_such_agent" in bad.error.message
    assert bad.agent == "no_such_agent"

    no_params = by_id["no-params"][0]
    assert no_params.WhichOneof("outcome") == "error"
    assert no_params.error.code == "invalid_argument"

    for r in by_id["ok-0"] + by_id["ok-1"]:
        assert r.WhichOneof("outcome") == "rollout", r.error
        assert r.rollout.verdict.reward == 1.0
    assert sorted(r.repeat_index for r in by_id["ok-1"]) == [0, 1]


@pytest.fixture
def session(resources_channel, dataset_rows):
    stub = resources_pb2_grpc.ResourcesServiceStub(resources_channel)
    seeded = stub.SeedSession(
        resources_pb2.SeedSessionRequest(task=task_from_row(dataset_rows[0]), request_id="py-tools"),
        timeout=RPC_TIMEOUT_S,
    )
    assert seeded.session_id
    yield stub, seeded.session_id
    stub.CloseSession(resources_pb2.CloseSessionRequest(session_id=seeded.session_id), timeout=RPC_TIMEOUT_S)


def test_list_tools(resources_channel):
    stub = resources_pb2_grpc.ResourcesServiceStub(resources_channel)
    tools = stub.ListTools(resources_pb2.ListToolsRequest(), timeout=RPC_TIMEOUT_S).tools
    assert [t.name for t in tools] == ["get_weather"]
    assert tools[0].parameters["type"] == "object"
    assert "city" in tools[0].parameters["properties"]


def test_call_tool_ok(session):
    stub, sid = session
    res = stub.CallTool(
        resources_pb2.CallToolRequest(session_id=sid, name="get_weather", arguments='{"city": "San Francisco"}', call_id="c1"),
        timeout=RPC_TIMEOUT_S,
    )
    assert res.output == WEATHER_OUTPUT


def test_call_tool_unknown_tool_is_not_found(session):
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
def test_call_tool_bad_arguments_is_invalid_argument(session, arguments):
    stub, sid = session
    with pytest.raises(grpc.RpcError) as err:
        stub.CallTool(
            resources_pb2.CallToolRequest(session_id=sid, name="get_weather", arguments=arguments, call_id="c3"),
            timeout=RPC_TIMEOUT_S,
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()


# ---------------------------------------------------------------------------
# (e) a task without tools


def test_task_without_tools_gets_reward_zero(agent_channel, dataset_rows):
    stub = agent_pb2_grpc.AgentServiceStub(agent_channel)
    row = json.loads(json.dumps(dataset_rows[0]))
    del row["responses_create_params"]["tools"]
    rollout = stub.Run(agent_pb2.RunRequest(task=task_from_row(row)), timeout=RPC_TIMEOUT_S).rollout
    assert rollout.verdict.reward == 0.0
    assert rollout.steps == 1
    assert "function_call" not in kinds(rollout.response.output)
    assert kinds(rollout.response.output) == ["message"]
    assert rollout.response.output[0].message.role == "assistant"


def test_string_input_without_tools(agent_channel):
    stub = agent_pb2_grpc.AgentServiceStub(agent_channel)
    task = task_from_row({"responses_create_params": {"input": "what's it like in sf?"}, "note": "no tools"})
    rollout = stub.Run(agent_pb2.RunRequest(task=task), timeout=RPC_TIMEOUT_S).rollout
    assert rollout.verdict.reward == 0.0
    assert rollout.task.extra["note"] == "no tools"


# ---------------------------------------------------------------------------
# (f) task_from_row


def nemo_gym_file(name: str) -> Path:
    env, _, rest = name.partition("/")
    fixture, ported = NEMO_GYM_DATA / name, ENVIRONMENTS / env / "data" / rest
    assert not (fixture.exists() and ported.exists()), f"NeMo Gym data {name} is in both {fixture} and {ported}"
    assert fixture.exists() or ported.exists(), f"NeMo Gym data {name} is missing: neither {fixture} nor {ported} exists"
    return fixture if fixture.exists() else ported


def nemo_gym_example_rows() -> list[tuple[str, int, dict]]:
    """Every row of every `<environment>/example.jsonl` listed in files.txt."""
    listed = [line.strip() for line in (NEMO_GYM_DATA / "files.txt").read_text().splitlines()]
    names = sorted(n for n in listed if n and not n.startswith("#") and n.count("/") == 1 and n.endswith("/example.jsonl"))
    rows = []
    for name in names:
        for n, line in enumerate(nemo_gym_file(name).read_text().splitlines(), 1):
            if line.strip():
                rows.append((name.partition("/")[0], n, json.loads(line)))
    return rows


def test_task_from_row_converts_every_nemo_gym_example():
    rows = nemo_gym_example_rows()
    assert len({env for env, _, _ in rows}) >= 10
    assert len({env for env, _, _ in rows}) == 13
    assert len(rows) == 65
    for env, n, row in rows:
        where = f"{env}/example.jsonl:{n}"
        task = task_from_row(row)
        # Through the wire format and back to the same JSON.
        again = task_pb2.Task.FromString(task.SerializeToString())
        assert task_to_row(again) == row, where
        params = again.responses_create_params
        items = params.input_items.items if params.WhichOneof("input") == "input_items" else []
        raw_input = row["responses_create_params"].get("input")
        if isinstance(raw_input, list):
            assert len(items) == len(raw_input), where
            for item, raw in zip(items, raw_input):
                if "type" not in raw and isinstance(raw.get("content"), str):
                    assert item.message.untyped and item.message.text == raw["content"], where
                    assert item.message.role == raw["role"], where
        raw_tools = row["responses_create_params"].get("tools") or []
        assert len(params.tools) == len(raw_tools), where
        for tool, raw in zip(params.tools, raw_tools):
            if raw.get("type") == "function":
                assert tool.function.name == raw["name"], where
        other = {k: v for k, v in row.items() if k != "responses_create_params"}
        assert set(again.extra.keys()) == set(other), where


def test_task_from_row_example_row():
    row = {
        "responses_create_params": {
            "input": [
                {"role": "developer", "content": "be brief"},
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
                {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "c1", "output": "ok"},
                {"type": "item_reference", "id": "x"},
            ],
            "tools": [
                {"type": "function", "name": "f", "parameters": {"type": "object"}, "strict": True},
                {"type": "web_search"},
            ],
            "model": "m",
            "instructions": "be nice",
            "temperature": 0.5,
            "top_p": 1,
            "max_output_tokens": 64,
            "parallel_tool_calls": False,
            "tool_choice": "auto",
            "background": None,
            "reasoning": {"effort": "low"},
        },
        "expected_answer": "42",
        "agent_ref": {"name": "a"},
    }
    task = task_from_row(row)
    p = task.responses_create_params
    assert kinds(p.input_items.items) == ["message", "message", "function_call", "function_call_output", "other"]
    dev, user = p.input_items.items[0].message, p.input_items.items[1].message
    assert (dev.role, dev.text, dev.untyped) == ("developer", "be brief", True)
    assert (user.untyped, user.parts.parts[0].input_text.text) == (False, "hi")
    assert p.input_items.items[2].function_call.name == "f"
    assert p.input_items.items[3].function_call_output.output == "ok"
    assert p.input_items.items[4].other["type"] == "item_reference"
    assert p.tools[0].function.name == "f" and p.tools[0].function.strict is True
    assert p.tools[1].WhichOneof("kind") == "other"
    assert (p.model, p.instructions, p.temperature, p.top_p) == ("m", "be nice", 0.5, 1.0)
    assert (p.max_output_tokens, p.HasField("parallel_tool_calls"), p.parallel_tool_calls) == (64, True, False)
    assert p.tool_choice.string_value == "auto"
    assert set(p.extra.keys()) == {"background", "reasoning"}
    assert set(task.extra.keys()) == {"expected_answer", "agent_ref"}
    assert task_to_row(task) == row

    s = task_from_row({"responses_create_params": {"input": "hello"}})
    assert s.responses_create_params.input_text == "hello"
    assert not s.HasField("extra")


@pytest.mark.parametrize(
    ("row", "path"),
    [
        ({}, "responses_create_params"),
        ({"responses_create_params": None}, "responses_create_params"),
        ({"responses_create_params": "hi"}, "responses_create_params"),
        ({"responses_create_params": {"input": 3}}, "responses_create_params.input"),
        ({"responses_create_params": {"input": [{"role": "user", "content": 5}]}}, "responses_create_params.input[0].content"),
        ({"responses_create_params": {"input": ["hi"]}}, "responses_create_params.input[0]"),
        ({"responses_create_params": {"input": [{"type": "function_call", "name": "f"}]}}, "responses_create_params.input[0].arguments"),
        ({"responses_create_params": {"tools": {"type": "function"}}}, "responses_create_params.tools"),
        ({"responses_create_params": {"tools": [{"type": "function", "parameters": []}]}}, "responses_create_params.tools[0].parameters"),
        ({"responses_create_params": {"temperature": "hot"}}, "responses_create_params.temperature"),
        ({"responses_create_params": {"max_output_tokens": 1.5}}, "responses_create_params.max_output_tokens"),
        ({"responses_create_params": {"parallel_tool_calls": 1}}, "responses_create_params.parallel_tool_calls"),
        ({"responses_create_params": {"model": 7}}, "responses_create_params.model"),
        ({"responses_create_params": {}, "score": float("nan")}, "score"),
        ([], ""),
    ],
)
def test_task_from_row_rejects_bad_rows(row, path):
    with pytest.raises(ValueError) as err:
        task_from_row(row)
    assert isinstance(err.value, JsonShapeError)
    assert err.value.path == path
    assert str(err.value).startswith(path or "(root)")


def test_target_of():
    assert target_of("http://127.0.0.1:5000") == "127.0.0.1:5000"
    assert target_of("https://example.com:443/") == "example.com:443"
    assert target_of("localhost:1") == "localhost:1"


# ---------------------------------------------------------------------------
# More of the contract


def test_collect_streams_results_before_the_client_half_closes(rollout_channel, dataset_rows):
    # A trainer may decide what to send next from the results so far: the
    # first result must arrive while the request stream is still open.
    stub = rollout_pb2_grpc.RolloutServiceStub(rollout_channel)
    got_first = threading.Event()

    def requests():
        yield rollout_pb2.CollectRequest(task_id="first", task=task_from_row(dataset_rows[0]))
        assert got_first.wait(timeout=RPC_TIMEOUT_S), "no result before the request stream ended"
        yield rollout_pb2.CollectRequest(task_id="second", task=task_from_row(dataset_rows[1]))

    seen = []
    for r in stub.Collect(requests(), timeout=60):
        seen.append(r.task_id)
        got_first.set()
    assert seen == ["first", "second"]


def test_call_tool_output_is_python_json_dumps(session):
    # Tool outputs are byte-identical to NeMo Gym's Python servers (json.dumps defaults).
    stub, sid = session
    city = "Zürich 😀 \x7f\n\"q\""
    res = stub.CallTool(
        resources_pb2.CallToolRequest(session_id=sid, name="get_weather", arguments=json.dumps({"city": city})),
        timeout=RPC_TIMEOUT_S,
    )
    assert res.output == json.dumps({"city": city, "weather_description": f"The weather in {city} is cold."})


def test_call_tool_unknown_session_is_not_found(resources_channel):
    stub = resources_pb2_grpc.ResourcesServiceStub(resources_channel)
    with pytest.raises(grpc.RpcError) as err:
        stub.CallTool(
            resources_pb2.CallToolRequest(session_id="no-such-session", name="get_weather", arguments='{"city": "x"}'),
            timeout=RPC_TIMEOUT_S,
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND, err.value.details()


def test_rollout_feeds_tool_errors_back_to_the_model(agent_channel, dataset_rows):
    # An unknown tool is the model's mistake: the error is the tool's output,
    # the rollout goes on, and this verifier gives 0 (no get_weather call).
    stub = agent_pb2_grpc.AgentServiceStub(agent_channel)
    row = json.loads(json.dumps(dataset_rows[0]))
    row["responses_create_params"]["tools"][0]["name"] = "get_forecast"
    rollout = stub.Run(agent_pb2.RunRequest(task=task_from_row(row)), timeout=RPC_TIMEOUT_S).rollout
    assert kinds(rollout.response.output) == ["function_call", "function_call_output", "message"]
    assert rollout.response.output[0].function_call.name == "get_forecast"
    error = json.loads(rollout.response.output[1].function_call_output.output)
    assert "get_forecast" in error["error"]
    assert rollout.verdict.reward == 0.0


def test_health_check(mesh):
    # grpc.health.v1.Health/Check, without the grpcio-health-checking package:
    # HealthCheckRequest{service} is field 1 (string); the response's status
    # is field 1 (enum), SERVING = 1.
    ch = mesh.channel("gym.v1.RolloutService")
    check = ch.unary_unary("/grpc.health.v1.Health/Check", request_serializer=bytes, response_deserializer=bytes)
    name = b"gym.v1.RolloutService"
    assert check(b"", timeout=RPC_TIMEOUT_S) == b"\x08\x01"
    assert check(b"\x0a" + bytes([len(name)]) + name, timeout=RPC_TIMEOUT_S) == b"\x08\x01"

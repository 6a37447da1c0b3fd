"""Our servers and NeMo Gym's own (its newest release, from the nemo-gym package), each driving the other."""

import json
import urllib.error
import urllib.request

from conftest import launch_nemo_gym


def post(url: str, body) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as res:
            return json.loads(res.read())
    except urllib.error.HTTPError as err:
        raise AssertionError(f"POST {url} answered {err.code}: {err.read().decode()}") from None


def test_our_agent_runs_on_a_nemo_gym_resources_server(mesh, rows):
    result = post(mesh["remote_weather_agent"] + "/run", rows[0])
    output = result["response"]["output"]
    assert [o["type"] for o in output] == ["function_call", "function_call_output", "message"]
    # NeMo Gym's FastAPI server wrote this (compact JSON), not our environment.
    assert output[1]["output"] == '{"city":"San Francisco","weather_description":"The weather in San Francisco is cold."}'
    assert result["reward"] == 1.0


def test_nemo_gym_simple_agent_runs_on_our_servers(processes, nemo_gym_root, mesh, rows):
    # NeMo Gym's own simple_agent, with our resources server and our model instance's
    # OpenAI-compatible HTTP face (in front of the mock model) as its model server.
    agent = launch_nemo_gym(
        processes,
        nemo_gym_root,
        "simple_agent",
        "--name",
        "nemo_simple_agent",
        "--resources",
        f"example_single_tool_call={mesh['example_single_tool_call']}",
        "--model",
        f"policy_model={mesh['policy_model']}",
        name="nemo_simple_agent",
    )
    result = post(agent + "/run", {**rows[1], "_ng_task_index": 1, "_ng_rollout_index": 0})
    output = result["response"]["output"]
    assert [o["type"] for o in output] == ["function_call", "function_call_output", "message"]
    # Our environment answered the tool call, and our verifier gave the reward.
    assert json.loads(output[1]["output"]) == {"city": "San Francisco", "weather_description": "The weather in San Francisco is cold."}
    assert result["reward"] == 1.0
    assert result["_ng_task_index"] == 1

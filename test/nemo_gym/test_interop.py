"""Our servers and NeMo Gym's own (its newest release, from the nemo-gym package), each driving the other."""

import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import NEMO_GYM_VERSION, REPO, free_port, launch_nemo_gym, serve_mesh, wait_for_port


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


def test_nemo_gym_resources_server_takes_our_close_session_body(nemo_weather):
    # What our nemo_gym_resources kind posts to /close_session
    # (services/nemo-gym/remote-resources.ts closeSessionBody, pinned by its test):
    # NeMo Gym's ResourcesCloseSessionRequest. The empty body it used to send is refused.
    body = {"resources_session_id": "0f9e2c1a-7d44-4c53-9a61-2b3c4d5e6f70", "episode_id": {"rollout_id": "0f9e2c1a-7d44-4c53-9a61-2b3c4d5e6f70", "attempt": 0}}
    assert post(nemo_weather + "/close_session", body) == {"resources_session_id": body["resources_session_id"]}
    req = urllib.request.Request(
        nemo_weather + "/close_session", data=b"{}", headers={"content-type": "application/json"}, method="POST"
    )
    try:
        urllib.request.urlopen(req, timeout=60)
        raise AssertionError("NeMo Gym accepted an empty close_session body")
    except urllib.error.HTTPError as err:
        assert err.code == 422


GYMNASIUM_ROW = json.loads(
    (REPO / "services" / "environments" / "example_multi_turn_gymnasium" / "data" / "example.jsonl").read_text().splitlines()[0]
)

# NeMo Gym's gymnasium_agent, started as test/nemo_gym/launch.py starts its
# simple_agent (the same config, with gymnasium_agent in its place).
GYMNASIUM_AGENT = """
import os, sys, tempfile
sys.path.insert(0, "/gym-mesh/test/nemo_gym")
import launch

name, port, resources, model = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
_, instance, config = launch.simple_agent_config(name, port, resources, model)
agents = config[name]["responses_api_agents"]
agents["gymnasium_agent"] = agents.pop("simple_agent")
os.chdir(tempfile.mkdtemp(prefix="nemo-gym-"))
parsed = launch.GlobalConfigDictParser().parse(
    launch.GlobalConfigDictParserConfig(
        initial_global_config_dict=launch.OmegaConf.create(config), skip_load_from_cli=True, skip_load_from_dotenv=True
    )
)
env = {
    **os.environ,
    launch.NEMO_GYM_CONFIG_DICT_ENV_VAR_NAME: launch.OmegaConf.to_yaml(parsed),
    launch.NEMO_GYM_CONFIG_PATH_ENV_VAR_NAME: instance,
}
os.chdir(launch.PARENT_DIR / "responses_api_agents" / "gymnasium_agent")
os.execve(sys.executable, [sys.executable, "app.py"], env)
"""


def environment_mesh_config(environment: str, replay: Path | None = None) -> str:
    """A mesh of the mock model (replaying `replay` when given), the model and one environment's resources server."""
    replaying = f"    replay:\n      files: [{json.dumps(str(replay))}]\n" if replay else ""
    return (
        "instances:\n"
        "  mock_openai:\n"
        "    kind: mock_model\n"
        f"{replaying}"
        "  policy_model:\n"
        "    kind: model\n"
        "    base_url: mock_openai\n"
        "    model: mock\n"
        f"  {environment}:\n"
        "    kind: resources\n"
        f"    environment: {environment}\n"
    )


def start_gymnasium_agent(processes, nemo_gym_root: str, name: str, mesh: dict[str, str], environment: str) -> str:
    """NeMo Gym's own gymnasium_agent driving our environment and model; returns its URL once it listens."""
    port = free_port()
    proc, log = processes.start(
        [
            "bash", str(REPO / "scripts" / "nemo-gym-python.sh"), "-c", GYMNASIUM_AGENT,
            name, str(port),
            f"{environment}={mesh[environment]}",
            f"policy_model={mesh['policy_model']}",
        ],
        name=name,
        cwd=REPO,
        env={**os.environ, "GYM_NEMO_GYM_ROOT": nemo_gym_root},
    )
    wait_for_port(port, proc, log, f"NeMo Gym {NEMO_GYM_VERSION} gymnasium_agent")
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def gymnasium_mesh(processes) -> dict[str, str]:
    """Our mesh with the mock model and our example_multi_turn_gymnasium (its NeMo Gym routes /reset and /step)."""
    return serve_mesh(processes, "gymnasium-mesh", environment_mesh_config("example_multi_turn_gymnasium"))


def test_nemo_gym_gymnasium_agent_runs_on_our_multi_turn_server(processes, nemo_gym_root, gymnasium_mesh):
    # NeMo Gym's own gymnasium_agent: /reset, then a model turn and a /step on our
    # server until terminated; the mock model answers "Hello from the mock model.".
    agent = start_gymnasium_agent(processes, nemo_gym_root, "nemo_gymnasium_agent", gymnasium_mesh, "example_multi_turn_gymnasium")

    hit = post(agent + "/run", {**GYMNASIUM_ROW, "expected_answer": "MOCK model"})
    output = hit["response"]["output"]
    # Each follow-up came back from our /step as the observation, as a user message.
    assert [o.get("role") for o in output] == ["assistant", "user", "assistant", "user", "assistant"]
    assert [o["content"] for o in output if o.get("role") == "user"] == GYMNASIUM_ROW["follow_ups"]
    assert (hit["reward"], hit["terminated"], hit["truncated"]) == (1.0, True, False)

    miss = post(agent + "/run", GYMNASIUM_ROW)
    assert (miss["reward"], miss["terminated"], miss["truncated"]) == (0.0, True, False)

    # More follow-ups than its max_steps (10): truncated, as NeMo Gym ends it.
    long = post(agent + "/run", {**GYMNASIUM_ROW, "follow_ups": [f"question {i}" for i in range(12)]})
    assert (long["reward"], long["terminated"], long["truncated"]) == (0.0, False, True)


SOKOBAN_DATA = REPO / "services" / "environments" / "grl_sokoban" / "data"
SOKOBAN_ROWS = [json.loads(line) for line in (SOKOBAN_DATA / "example.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def sokoban_mesh(processes) -> dict[str, str]:
    """Our grl_sokoban with a mock model that replays the moves a real model made on NeMo Gym's own server."""
    return serve_mesh(processes, "sokoban-mesh", environment_mesh_config("grl_sokoban", replay=SOKOBAN_DATA / "example_rollouts.jsonl"))


def test_nemo_gym_gymnasium_agent_plays_our_sokoban(processes, nemo_gym_root, sokoban_mesh):
    # The replayed model answers a turn only when the conversation so far (the boards our
    # /reset and /step answered) is byte for byte what NeMo Gym's server showed the real model.
    agent = start_gymnasium_agent(processes, nemo_gym_root, "nemo_sokoban_agent", sokoban_mesh, "grl_sokoban")

    # Level 1: solved on the 10th move (the agent's max_steps is 10).
    solved = post(agent + "/run", SOKOBAN_ROWS[0])
    assert (solved["reward"], solved["terminated"], solved["truncated"]) == (10.0, True, False)
    assert solved["info"]["success"] is True
    assert solved["responses_create_params"]["input"][-1]["content"].startswith("Sokoban board:\n#####\n#O__#\n#_X_#\n#_P_#\n#####\n\nLegend:")

    # Level 2: not solved in 10 moves: truncated by the agent, -0.1 a move.
    unsolved = post(agent + "/run", SOKOBAN_ROWS[1])
    assert (unsolved["reward"], unsolved["terminated"], unsolved["truncated"]) == (sum([-0.1] * 10), False, True)  # summed as the agent sums
    assert [o.get("role") for o in unsolved["response"]["output"]] == ["assistant", "user"] * 10

"""NeMo Gym's plain HTTP API on our servers, spoken as NeMo Gym's own agents
and clients speak it: JSON bodies in NeMo Gym's shapes, the session in a cookie."""

import json
import urllib.error
import urllib.request
from http.cookiejar import CookieJar

from conftest import DATASET

RESOURCES = "example_single_tool_call"
AGENT = "example_single_tool_call_simple_agent"


def rows():
    return [json.loads(line) for line in DATASET.read_text().splitlines() if line.strip()]


class HttpClient:
    """A plain HTTP client that keeps cookies, as NeMo Gym's agents forward them."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.cookies = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def post(self, path: str, body) -> tuple[int, str]:
        req = urllib.request.Request(
            self.base_url + path,
            data=json.dumps(body).encode(),
            headers={"content-type": "application/json"},
            method="POST",
        )
        try:
            with self.opener.open(req, timeout=30) as res:
                return res.status, res.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()


def test_resources_server_speaks_nemo_gym_http(mesh):
    client = HttpClient(mesh.url(RESOURCES))
    row = rows()[0]
    status, body = client.post("/seed_session", row)
    assert (status, json.loads(body)) == (200, {})

    status, body = client.post("/get_weather", {"city": "Paris"})
    assert status == 200
    assert json.loads(body) == {"city": "Paris", "weather_description": "The weather in Paris is cold."}

    response = {
        "id": "resp_1",
        "object": "response",
        "output": [
            {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": '{"city": "Paris"}'},
            {"type": "function_call_output", "call_id": "c1", "output": body},
        ],
    }
    status, body = client.post("/verify", {**row, "response": response})
    assert status == 200
    verified = json.loads(body)
    assert verified["reward"] == 1.0
    assert verified["responses_create_params"] == row["responses_create_params"]
    assert verified["response"]["output"][0]["name"] == "get_weather"

    status, body = client.post("/verify", {**row, "response": {**response, "output": []}})
    assert json.loads(body)["reward"] == 0.0
    assert client.post("/close_session", {})[0] == 200


def test_resources_server_errors_in_fastapi_shapes(mesh):
    client = HttpClient(mesh.url(RESOURCES))
    client.post("/seed_session", rows()[0])
    status, body = client.post("/get_time", {})
    assert status == 404 and "get_time" in json.loads(body)["detail"]
    status, body = client.post("/get_weather", {"town": "Paris"})
    assert status == 422 and "city" in json.loads(body)["detail"]
    status, body = client.post("/verify", {"response": {"output": []}})
    assert status == 422 and "responses_create_params" in json.loads(body)["detail"]


def test_sessions_are_kept_apart_by_cookie(mesh):
    first, second = HttpClient(mesh.url(RESOURCES)), HttpClient(mesh.url(RESOURCES))
    first.post("/seed_session", rows()[0])
    second.post("/seed_session", rows()[1])
    sessions = [{c.name: c.value for c in client.cookies} for client in (first, second)]
    assert sessions[0] and sessions[1] and sessions[0] != sessions[1]


def test_agent_run_takes_a_row_and_returns_the_verified_rollout(mesh):
    row = {**rows()[2], "agent_ref": {"name": AGENT}, "_ng_task_index": 2, "_ng_rollout_index": 0}
    status, body = HttpClient(mesh.url(AGENT)).post("/run", row)
    assert status == 200
    result = json.loads(body)
    assert result["reward"] == 1.0
    assert result["_ng_task_index"] == 2 and result["agent_ref"] == {"name": AGENT}
    assert [o["type"] for o in result["response"]["output"]] == ["function_call", "function_call_output", "message"]

    status, body = HttpClient(mesh.url(AGENT)).post("/run", {"expected_answer": "C"})
    assert status == 422 and "responses_create_params" in json.loads(body)["detail"]

"""Differential test: every line of every environment's
services/environments/*/data/verify_cases.jsonl is also scored by NeMo Gym's
newest release (the reference for rewards): its own resources server for
that environment, started from the installed wheel in the chroot. The reward
must be the one the case pins for ours (services/environments/
verify-cases.test.ts checks that ours gives it).

How a case travels to NeMo Gym is how NeMo Gym's agents drive the server:
`simple_agent` seeds a session with the row (`POST /seed_session`), calls
tools with the session cookie (the case's `setup`; arguments that are not
JSON never reach the server, the agent answers the model with an error), then
`POST /verify` with the row and `response`; `session: false` skips the seed.
A multi-turn (Gymnasium) environment gets what `gymnasium_agent` sends:
`POST /reset` with the row, then `POST /step` with the row and each turn's
response until terminated or truncated; the reward is the sum of the steps'.
A case that expects an error from ours must be refused by NeMo Gym too (an
HTTP error); `expected_extra` (the verifier's fields) and `expected_steps`
must match too, and so must what a `setup` tool call answers or refuses.

A line where we deliberately differ from NeMo Gym says so, and why:

    "nemo_gym_differs": {"release": "0.7.0", "reward": 0.0, "why": "..."}
    "nemo_gym_differs": {"release": "0.7.0", "error": true, "why": "..."}

and then NeMo Gym must give exactly that (the divergence is pinned, not
ignored); a pin for another release than the installed one fails until it is
checked again. An environment NeMo Gym does not have cannot be sent anywhere:
its lines are reported as such in the test output (pytest -rs), never
skipped silently."""

import http.cookiejar
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import NEMO_GYM_VERSION, REPO, start_nemo_gym, wait_for_port

ENVIRONMENTS = REPO / "services" / "environments"
PIN = "nemo_gym_differs"
# Fields of a case line that are not part of the task row (services/resources/verify-cases.ts).
CASE_KEYS = {
    "name", "case", "kind", "description", "task", "request", "response", "setup", "session", "turns",
    "expected_reward", "expected_extra", "expected_error", "expected_steps", "reward", "error", "note", PIN,
    "settings", "nemo_gym_config",
}


@dataclass
class Case:
    env: str
    line: int
    json: dict

    @property
    def name(self) -> str:
        j = self.json
        return str(j.get("name") or j.get("case") or j.get("description") or f"line {self.line}")

    @property
    def server(self) -> tuple[str, str | None, str]:
        """Which NeMo Gym server scores it: the environment, a config file of the release's server
        (`nemo_gym_config`, else its default), and the case's `settings` as that server's config fields."""
        j = self.json
        return (self.env, j.get("nemo_gym_config"), json.dumps(j.get("settings") or {}, sort_keys=True))

    @property
    def where(self) -> str:
        return f"{self.env}/data/verify_cases.jsonl:{self.line} ({self.name})"


def load_cases() -> list[Case]:
    cases = []
    for file in sorted(ENVIRONMENTS.glob("*/data/verify_cases.jsonl")):
        env = file.parent.parent.name
        for i, raw in enumerate(file.read_text(encoding="utf-8").split("\n"), 1):
            if raw.strip():
                cases.append(Case(env, i, json.loads(raw)))
    return cases


CASES = load_cases()


def task_of(case: dict) -> dict:
    """The task row: `task`, NeMo Gym's `request` (without its response), or the case's own row fields."""
    if isinstance(case.get("task"), dict):
        return case["task"]
    if isinstance(case.get("request"), dict):
        return {k: v for k, v in case["request"].items() if k != "response"}
    return {k: v for k, v in case.items() if k not in CASE_KEYS}


def response_of(case: dict):
    if "response" in case:
        return case["response"]
    if isinstance(case.get("request"), dict):
        return case["request"].get("response")
    return None


def expected_error(case: dict) -> bool:
    return case.get("expected_error", case.get("error")) is not None


def expected_reward(case: dict):
    r = case.get("expected_reward", case.get("reward"))
    return r if isinstance(r, (int, float)) and not isinstance(r, bool) else None


# --- what NeMo Gym's server gives ------------------------------------------


class Refused(Exception):
    """NeMo Gym answered an HTTP error."""

    def __init__(self, where: str, status: int, body: str):
        super().__init__(f"{where} answered HTTP {status}: {body[:300]}")
        self.status = status


@dataclass
class Outcome:
    reward: float | None = None
    error: str | None = None
    body: dict = field(default_factory=dict)
    steps: list | None = None
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return f"an error ({self.error})" if self.error is not None else f"reward {self.reward}"


class Session:
    """One client of one NeMo Gym server, with its own cookies (NeMo Gym's session)."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def post(self, path: str, body) -> dict:
        req = urllib.request.Request(
            self.base + path, data=json.dumps(body).encode(), headers={"content-type": "application/json"}, method="POST"
        )
        try:
            with self.opener.open(req, timeout=60) as res:
                return json.loads(res.read() or b"null")
        except urllib.error.HTTPError as err:
            raise Refused(f"POST {path}", err.code, err.read().decode(errors="replace")) from None


def run_on_nemo_gym(base: str, case: Case, gymnasium: bool) -> Outcome:
    c = case.json
    task = task_of(c)
    s = Session(base)
    out = Outcome()
    try:
        if gymnasium:
            turns = c["turns"] if isinstance(c.get("turns"), list) else [] if response_of(c) is None else [response_of(c)]
            s.post("/reset", task)
            out.reward, out.steps = 0.0, []
            for turn in turns:
                step = s.post("/step", {**task, "response": turn})
                out.steps.append(
                    {
                        **({"observation": step["observation"]} if step.get("observation") is not None else {}),
                        "reward": step["reward"],
                        "terminated": step["terminated"],
                        "truncated": step["truncated"],
                    }
                )
                out.reward += step["reward"]
                if step["terminated"] or step["truncated"]:
                    break
            return out
        if c.get("session") is not False:
            s.post("/seed_session", task)
        for i, step in enumerate(c.get("setup") or []):
            out.notes += setup_call(s, i, step)
        body = {**task}
        if response_of(c) is not None:
            body["response"] = response_of(c)
        out.body = s.post("/verify", body)
        out.reward = out.body.get("reward")
    except Refused as err:
        out.error = str(err)
    return out


def setup_call(s: Session, i: int, step: dict) -> list[str]:
    """One tool call of a case's setup, as simple_agent makes it; what differs from the case's expectation."""
    args = step.get("arguments", {})
    text = args if isinstance(args, str) else json.dumps(args)
    want_error = step.get("expected_error", step.get("error")) is not None
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        # simple_agent does not call the tool: the model gets an error as the tool's output.
        return [] if want_error else [f"setup[{i}] ({step['tool']}): arguments are not JSON, NeMo Gym's agent never calls the tool"]
    try:
        output = s.post(f"/{step['tool']}", parsed)
    except Refused as err:
        return [] if want_error else [f"setup[{i}] ({step['tool']}): {err}"]
    if want_error:
        return [f"setup[{i}] ({step['tool']}): ours fails, NeMo Gym answered {json.dumps(output)}"]
    if isinstance(step.get("expected_output"), str) and json.loads(step["expected_output"]) != output:
        return [f"setup[{i}] ({step['tool']}): ours answers {step['expected_output']}, NeMo Gym {json.dumps(output)}"]
    return []


# --- the comparison ----------------------------------------------------------


def differences(case: Case, got: Outcome, release: str = NEMO_GYM_VERSION) -> list[str]:
    """What NeMo Gym's outcome has that the case does not allow; empty when they agree."""
    c = case.json
    ours = "an error" if expected_error(c) else f"reward {expected_reward(c)}"
    pin = c.get(PIN)
    if pin is not None:
        if not isinstance(pin, dict) or not isinstance(pin.get("why"), str) or not pin["why"].strip():
            return [f'{PIN} needs {{"release", "reward" or "error": true, "why"}}, got {json.dumps(pin)}']
        if pin.get("release") != release:
            return [f"{PIN} was recorded for NeMo Gym {pin.get('release')}, the reference is {release}: check it again"]
        pinned = "an error" if pin.get("error") is True else f"reward {pin.get('reward')}"
        if pinned == ours:
            return [f"{PIN} pins {pinned}, which is what ours gives: not a difference, remove the pin"]
        if pin.get("error") is True:
            return [] if got.error is not None else [f"pinned: NeMo Gym {release} refuses; it gave {got.describe()}"]
        if got.error is not None or not close(got.reward, pin.get("reward")):
            return [f"pinned: NeMo Gym {release} gives {pinned}; it gave {got.describe()}"]
        return []

    diffs = [f"ours {ours}, NeMo Gym {release} {got.describe()}"]
    if expected_error(c):
        if got.error is not None:
            diffs = []
    elif got.error is None and close(got.reward, expected_reward(c)):
        diffs = []
    if not diffs and got.error is None:
        if isinstance(c.get("expected_steps"), list) and not same(got.steps, c["expected_steps"]):
            diffs.append(f"ours steps {json.dumps(c['expected_steps'])}, NeMo Gym {release} {json.dumps(got.steps)}")
        for k, v in (c.get("expected_extra") or {}).items():
            if k not in got.body or not same(got.body[k], v):
                theirs = json.dumps(got.body[k]) if k in got.body else "nothing"
                diffs.append(f"ours {k} = {json.dumps(v)}, NeMo Gym {release} {theirs}")
    return diffs + got.notes


def close(a, b) -> bool:
    number = (int, float)
    return isinstance(a, number) and isinstance(b, number) and not isinstance(a, bool) and not isinstance(b, bool) and abs(a - b) <= 1e-9


def same(a, b) -> bool:
    """Equal as JSON values: 1 and 1.0 are the same number, True is not 1."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


# --- the servers -----------------------------------------------------------


class ReleaseServers:
    """NeMo Gym's resources server of each environment (one per distinct config and settings of its
    cases), all started at once, waited for on first use."""

    def __init__(self, processes, root: str, keys: list[tuple[str, str | None, str]]):
        self.started = {}
        self.ready: dict[tuple, tuple[str, bool]] = {}
        # The release's resources servers, in its site-packages (test/nemo_gym/launch.py starts them).
        servers = list(Path(root).glob("opt/ng/lib/python3*/site-packages/resources_servers"))
        if not servers:
            pytest.fail(f"no resources_servers of NeMo Gym {NEMO_GYM_VERSION} in {root}: remake it (scripts/nemo-gym-env.sh)")
        for n, key in enumerate(keys):
            env, config, settings = key
            if (servers[0] / env / "app.py").is_file():
                args = ["resources", env, *(["--config", config] if config else [])]
                for k, v in json.loads(settings).items():
                    args += ["--set", f"{k}={json.dumps(v)}"]
                self.started[key] = start_nemo_gym(processes, root, *args, name=f"release_{env}_{n}")
        self.envs = {key[0] for key in self.started}

    def has(self, env: str) -> bool:
        return env in self.envs

    def server(self, key: tuple) -> tuple[str, bool]:
        """Its URL, and whether it is a Gymnasium server (multi-turn: /reset and /step, no /verify)."""
        if key not in self.ready:
            url, proc, log = self.started[key]
            wait_for_port(int(url.rsplit(":", 1)[1]), proc, log, f"NeMo Gym {NEMO_GYM_VERSION} resources server {key}")
            with urllib.request.urlopen(url + "/openapi.json", timeout=30) as res:
                routes = json.loads(res.read())["paths"]
            self.ready[key] = (url, "/step" in routes and "/verify" not in routes)
        return self.ready[key]


class EMPTY:
    params: dict = {}


@pytest.fixture(scope="session")
def release_servers(request, processes, nemo_gym_root):
    # Only the servers of the selected cases (`-k mcqa` starts mcqa's alone).
    selected = [item.callspec.params["case"] for item in request.session.items if "case" in getattr(item, "callspec", EMPTY).params]
    return ReleaseServers(processes, nemo_gym_root, sorted({c.server for c in selected}, key=str))


@pytest.mark.parametrize("case", CASES, ids=[f"{c.env}:{c.line}" for c in CASES])
def test_nemo_gym_release_gives_our_reward(release_servers, case: Case):
    if not release_servers.has(case.env):
        pytest.skip(
            f"cannot be sent: NeMo Gym {NEMO_GYM_VERSION} has no resources_servers/{case.env} "
            f"(not one of NeMo Gym's environments): {case.where}"
        )
    url, gymnasium = release_servers.server(case.server)
    got = run_on_nemo_gym(url, case, gymnasium)
    diffs = differences(case, got)
    assert not diffs, f"{case.where}: " + "; ".join(diffs)


# --- the comparison itself, without a server ---------------------------------


def pinned(ours=None, ours_error=False, **pin) -> Case:
    """A case where ours gives `ours` (or an error), with `pin` as its nemo_gym_differs."""
    j = {"name": "x", "task": {}, "response": {}}
    if ours_error:
        j["expected_error"] = "invalid_argument"
    else:
        j["expected_reward"] = ours
    if pin:
        j[PIN] = pin
    return Case("env", 1, j)


def test_differences_compare_rewards_and_errors():
    assert differences(pinned(1.0), Outcome(reward=1.0), "9") == []
    assert differences(pinned(1.0), Outcome(reward=0.0), "9") == ["ours reward 1.0, NeMo Gym 9 reward 0.0"]
    assert differences(pinned(ours_error=True), Outcome(error="HTTP 422"), "9") == []
    assert differences(pinned(ours_error=True), Outcome(reward=0.0), "9") == ["ours an error, NeMo Gym 9 reward 0.0"]
    assert differences(pinned(0.0), Outcome(error="HTTP 500"), "9") == ["ours reward 0.0, NeMo Gym 9 an error (HTTP 500)"]


def test_differences_compare_fields_and_steps_as_json():
    case = pinned(1.0)
    case.json["expected_extra"] = {"extracted_answer": "C", "overlap": 1, "hit": False}
    assert differences(case, Outcome(reward=1.0, body={"extracted_answer": "C", "overlap": 1.0, "hit": False}), "9") == []
    assert differences(case, Outcome(reward=1.0, body={"extracted_answer": "C", "overlap": 1.0, "hit": 0}), "9") == [
        "ours hit = false, NeMo Gym 9 0"
    ]
    assert differences(case, Outcome(reward=1.0, body={"overlap": 1, "hit": False}), "9") == [
        'ours extracted_answer = "C", NeMo Gym 9 nothing'
    ]
    steps = pinned(1.0)
    steps.json["expected_steps"] = [{"observation": "next?", "reward": 0.0, "terminated": False, "truncated": False}]
    assert differences(steps, Outcome(reward=1.0, steps=[{"reward": 0.0, "terminated": False, "truncated": False}]), "9")[0].startswith("ours steps")


def test_a_pinned_difference_must_hold_and_say_why():
    why = "NeMo Gym divides by zero"
    assert differences(pinned(1.0, release="9", reward=0.0, why=why), Outcome(reward=0.0), "9") == []
    assert differences(pinned(1.0, release="9", error=True, why=why), Outcome(error="HTTP 500"), "9") == []
    assert "it gave reward 1.0" in differences(pinned(1.0, release="9", reward=0.0, why=why), Outcome(reward=1.0), "9")[0]
    assert "refuses; it gave reward 0.0" in differences(pinned(1.0, release="9", error=True, why=why), Outcome(reward=0.0), "9")[0]
    assert "check it again" in differences(pinned(1.0, release="8", reward=0.0, why=why), Outcome(reward=0.0), "9")[0]
    assert "needs" in differences(pinned(1.0, release="9", reward=0.0), Outcome(reward=0.0), "9")[0]
    assert "remove the pin" in differences(pinned(1.0, release="9", reward=1.0, why=why), Outcome(reward=1.0), "9")[0]

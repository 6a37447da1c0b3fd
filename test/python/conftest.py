"""Real meshes (`node bin/gym.js serve`) for the Python client's tests: the
default config once per session, and meshes of the tests' own configs."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import grpc
import pytest

from gymmesh import connect

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CONFIG = Path(os.environ.get("GYM_TEST_CONFIG", REPO / "config" / "default.yaml"))
DATASET = REPO / "services" / "environments" / "example_single_tool_call" / "data" / "example.jsonl"
GYMNASIUM_DATASET = REPO / "services" / "environments" / "example_multi_turn_gymnasium" / "data" / "example.jsonl"

STARTUP_TIMEOUT_S = float(os.environ.get("GYM_TEST_STARTUP_TIMEOUT", "120"))
SHUTDOWN_TIMEOUT_S = 30.0

# `<name>  <service>  http://127.0.0.1:<port>[  grpc://127.0.0.1:<port>]`: columns separated by 2+ spaces.
_INSTANCE_LINE = re.compile(r"^(\S+)\s{2,}(.+?)\s{2,}(https?://\S+)(?:\s{2,}(grpc://\S+))?\s*$")


@dataclass
class Instance:
    name: str
    service: str
    url: str
    # The grpc-js port (plain gRPC), for instances that serve gRPC services.
    grpc_url: str | None = None


@dataclass
class Mesh:
    proc: subprocess.Popen[str]
    instances: dict[str, Instance]
    stderr_path: Path
    _channels: list[grpc.Channel] = field(default_factory=list)

    def url(self, name: str) -> str:
        return self.instances[name].url

    def by_service(self, service: str) -> Instance:
        found = [i for i in self.instances.values() if i.service == service]
        assert len(found) == 1, f"expected one {service} instance, got {found}"
        return found[0]

    def channel(self, service: str) -> grpc.Channel:
        ch = connect(self.by_service(service).url)
        grpc.channel_ready_future(ch).result(timeout=10)
        self._channels.append(ch)
        return ch

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def metric(self, name: str, metric: str) -> float:
        """A metric of one instance (`GET /metrics`), summed over its series."""
        with urllib.request.urlopen(self.url(name) + "/metrics", timeout=10) as res:
            text = res.read().decode()
        values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if re.match(rf"^{metric}(\{{.*\}})?\s", line)]
        assert values, f"{name} exposes no {metric}:\n{text}"
        return sum(values)

    def kill(self) -> None:
        """SIGKILL, as a crash: no draining."""
        _kill_group(self.proc)
        for ch in self._channels:
            ch.close()
        self.stderr_path.unlink(missing_ok=True)

    def stop(self) -> None:
        """SIGTERM, then checks it exited 0 and left no process behind."""
        for ch in self._channels:
            ch.close()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _kill_group(self.proc)
            pytest.fail(f"the mesh did not stop within {SHUTDOWN_TIMEOUT_S:.0f} s of SIGTERM\n{self.stderr()}")
        # Helpers of the server (tsx's esbuild service) may take a moment to notice it is gone.
        deadline = time.monotonic() + 5
        while (leftover := _group_members(self.proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        if leftover:
            _kill_group(self.proc)
        stderr = self.stderr()
        self.stderr_path.unlink(missing_ok=True)
        assert code == 0, f"`gym serve` exited with {code} after SIGTERM\n--- stderr ---\n{stderr}"
        assert not leftover, f"processes of the mesh were still running after the mesh exited:\n{leftover}"


def _group_members(pgid: int) -> str:
    """`ps` lines of the live (non-zombie) processes in a process group."""
    out = subprocess.run(["ps", "-eo", "pid=,pgid=,stat=,args="], capture_output=True, text=True).stdout
    return "".join(
        line + "\n"
        for line in out.splitlines()
        if len(f := line.split(None, 3)) >= 3 and f[1] == str(pgid) and not f[2].startswith("Z")
    )


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


def _reader(stream: Any, lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)  # EOF


def start_mesh(config: Path, env: dict[str, str] | None = None) -> Mesh:
    """`gym serve --config CONFIG`, up to its `ready` line (with `env` added to the environment)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: cannot start the mesh")
    env = {**os.environ, "GYM_LOG": "off", **(env or {})}
    stderr_file = tempfile.NamedTemporaryFile(prefix="gym-serve-", suffix=".stderr", delete=False)
    stderr_path = Path(stderr_file.name)
    proc = subprocess.Popen(
        # The gym command itself (what `npx gym` runs), so SIGTERM reaches the server directly.
        [node, str(REPO / "bin" / "gym.js"), "serve", "--config", str(config)],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr_file,
        text=True,
        start_new_session=True,  # its own process group, so teardown can sweep leftovers
    )
    stderr_file.close()
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()

    def startup_failure(why: str, stdout: list[str]) -> None:
        _kill_group(proc)
        stderr = stderr_path.read_text(errors="replace")
        stderr_path.unlink(missing_ok=True)
        pytest.fail(f"`gym serve` {why}\n--- stdout ---\n{''.join(stdout)}--- stderr ---\n{stderr}", pytrace=False)

    instances: dict[str, Instance] = {}
    stdout: list[str] = []
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            startup_failure(f"did not print 'ready' within {STARTUP_TIMEOUT_S:.0f} s", stdout)
        try:
            line = lines.get(timeout=min(remaining, 1.0))
        except queue.Empty:
            if proc.poll() is not None and lines.empty():
                startup_failure(f"exited with code {proc.returncode} before 'ready'", stdout)
            continue
        if line is None:
            proc.wait(timeout=10)
            startup_failure(f"closed its stdout (exit code {proc.returncode}) before 'ready'", stdout)
            raise AssertionError  # not reached
        stdout.append(line)
        if line.strip() == "ready":
            break
        m = _INSTANCE_LINE.match(line.rstrip("\n"))
        if m:
            instances[m.group(1)] = Instance(m.group(1), m.group(2).strip(), m.group(3), m.group(4))
    if not instances:
        startup_failure("printed 'ready' but no instance lines", stdout)
    return Mesh(proc=proc, instances=instances, stderr_path=stderr_path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def write_config(directory: Path, name: str, instances: dict[str, Any]) -> Path:
    """A mesh config file (JSON is YAML)."""
    path = directory / f"{name}.yaml"
    path.write_text(json.dumps({"instances": instances}, indent=2) + "\n")
    return path


@pytest.fixture(scope="session")
def mesh() -> Iterator[Mesh]:
    m = start_mesh(CONFIG)
    try:
        yield m
    finally:
        m.stop()


# The lab mesh: a training model (Chat Completions with token ids, as vLLM)
# for the token-data tests, a slow model (30 s per answer) for deadlines and
# cancellation, the multi-turn gymnasium environment.
LAB_CONFIG = HERE / "meshes" / "lab.yaml"


@pytest.fixture(scope="session")
def lab() -> Iterator[Mesh]:
    m = start_mesh(LAB_CONFIG)
    try:
        yield m
    finally:
        m.stop()


@pytest.fixture(scope="session")
def agent_channel(mesh: Mesh) -> grpc.Channel:
    return mesh.channel("gymmesh.v1.AgentService")


@pytest.fixture(scope="session")
def rollout_channel(mesh: Mesh) -> grpc.Channel:
    return mesh.channel("gymmesh.v1.RolloutService")


@pytest.fixture(scope="session")
def resources_channel(mesh: Mesh) -> grpc.Channel:
    return mesh.channel("gymmesh.v1.ResourcesService")


@pytest.fixture(scope="session")
def dataset_rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in DATASET.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def dataset_lines() -> list[str]:
    return [line for line in DATASET.read_text().splitlines() if line.strip()]


WEATHER_PARAMETERS = {
    "type": "object",
    "properties": {"city": {"type": "string", "description": ""}},
    "required": ["city"],
    "additionalProperties": False,
}


def weather_task(question: str = "what's it like in sf?", *, tools: bool = True, extra: dict[str, Any] | None = None) -> Any:
    """A typed gymmesh.v1 Task like the rows of example_single_tool_call, built by hand (the typed path)."""
    from gymmesh.v1 import responses_pb2, task_pb2

    items = [
        responses_pb2.Item(message=responses_pb2.Message(role=responses_pb2.ROLE_DEVELOPER, text="You are a helpful assistant.", untyped=True)),
        responses_pb2.Item(message=responses_pb2.Message(role=responses_pb2.ROLE_USER, text=question, untyped=True)),
    ]
    weather = responses_pb2.FunctionTool(name="get_weather", description="", parameters_json=json.dumps(WEATHER_PARAMETERS), strict=True)
    params = responses_pb2.ResponseCreateParams(
        input_items=responses_pb2.ItemList(items=items),
        tools=[responses_pb2.Tool(function=weather)] if tools else [],
    )
    return task_pb2.Task(responses_create_params=params, extra_json=json.dumps(extra) if extra else "")

"""Starts NeMo Gym's own servers (from the nemo-gym package) and our mesh,
so each can be tested against the other over NeMo Gym's HTTP API."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAUNCH = Path(__file__).with_name("launch.py")
DATASET = REPO / "services" / "environments" / "example_single_tool_call" / "data" / "example.jsonl"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode}:\n{proc.stderr.read() if proc.stderr else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"{what} did not listen on port {port} within {timeout} s")


class Processes:
    def __init__(self):
        self.procs: list[subprocess.Popen] = []

    def start(self, args, **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **kwargs)
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="session")
def processes():
    p = Processes()
    yield p
    p.stop()


def launch_nemo_gym(processes: Processes, *args: str, name: str) -> str:
    """Runs one NeMo Gym server; returns its base URL."""
    port = free_port()
    proc = processes.start([sys.executable, str(LAUNCH), *args, "--name", name, "--port", str(port)], cwd=REPO)
    wait_for_port(port, proc, f"NeMo Gym server {name}")
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def nemo_weather(processes) -> str:
    """NeMo Gym's own example_single_tool_call resources server."""
    return launch_nemo_gym(
        processes,
        "resources",
        "resources_servers.example_single_tool_call.app:SimpleWeatherResourcesServer",
        name="nemo_weather",
    )


@pytest.fixture(scope="session")
def mesh(processes, nemo_weather) -> dict[str, str]:
    """Our mesh with the scripted mock model, our weather environment, and an
    agent that uses NeMo Gym's weather server instead."""
    config = (
        "instances:\n"
        "  mock_openai:\n"
        "    kind: mock_model\n"
        "  policy_model:\n"
        "    kind: model\n"
        "    base_url: mock_openai\n"
        "    model: mock\n"
        "  example_single_tool_call:\n"
        "    kind: resources\n"
        "    environment: example_single_tool_call\n"
        "  nemo_weather:\n"
        "    kind: nemo_gym_resources\n"
        f"    base_url: {nemo_weather}\n"
        "  remote_weather_agent:\n"
        "    kind: agent\n"
        "    model: policy_model\n"
        "    resources: nemo_weather\n"
    )
    file = Path(tempfile.mkdtemp()) / "mesh.yaml"
    file.write_text(config)
    proc = processes.start(
        ["node", str(REPO / "bin" / "gym.js"), "serve", "--config", str(file)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        env={**os.environ, "GYM_LOG": "off"},
    )
    urls = {}
    for line in proc.stdout:
        if line.strip() == "ready":
            break
        # `<name>  <service>  http://...[  grpc://...]`: the NeMo Gym routes are on the http:// port.
        name, *rest = line.split()
        urls[name] = next(field for field in rest if field.startswith("http://"))
    else:
        pytest.fail(f"gym serve exited:\n{proc.stderr.read()}")
    return urls


@pytest.fixture(scope="session")
def rows() -> list[dict]:
    return [json.loads(line) for line in DATASET.read_text().splitlines() if line.strip()]

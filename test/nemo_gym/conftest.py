"""Starts NeMo Gym's own servers (its newest release, in the chroot of
scripts/nemo-gym-env.sh) and our mesh, so each can be tested against the
other over NeMo Gym's HTTP API. The tests run on this machine's Python
(scripts/python-env.sh); only NeMo Gym's servers run in the chroot, through
scripts/nemo-gym-python.sh, and both sides talk over 127.0.0.1."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DATASET = REPO / "services" / "environments" / "example_single_tool_call" / "data" / "example.jsonl"
# Inside the chroot this clone is /gym-mesh (scripts/nemo-gym-python.sh).
LAUNCH = "/gym-mesh/" + str((HERE / "launch.py").relative_to(REPO))
NEMO_GYM_VERSION = re.search(r"^nemo-gym==(\S+)", (HERE / "requirements.txt").read_text(), re.M).group(1)
LOGS = Path(tempfile.mkdtemp(prefix="nemo-gym-tests-"))


def pytest_sessionfinish(session, exitstatus):
    """The servers' logs are kept when something failed, and named."""
    if exitstatus == 0:
        shutil.rmtree(LOGS, ignore_errors=True)
    else:
        print(f"\nlogs of NeMo Gym's servers and of our mesh: {LOGS}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """Servers started by the tests; each one's output goes to its own log
    file (a pipe nobody reads would stall a chatty server)."""

    def __init__(self):
        self.procs: list[tuple[subprocess.Popen, Path]] = []

    def start(self, args, name: str, **kwargs) -> tuple[subprocess.Popen, Path]:
        log = LOGS / f"{name}.log"
        with open(log, "w") as out:
            kwargs.setdefault("stdout", out)
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stderr=out, text=True, **kwargs)
        self.procs.append((proc, log))
        return proc, log

    def stop(self) -> None:
        for proc, _ in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc, _ in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def wait_for_port(port: int, proc: subprocess.Popen, log: Path, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode}:\n{tail(log)}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"{what} did not listen on port {port} within {timeout} s:\n{tail(log)}")


@pytest.fixture(scope="session")
def nemo_gym_root() -> str:
    """The chroot with NeMo Gym's release (made once, cached outside the clone)."""
    root = os.environ.get("GYM_NEMO_GYM_ROOT")
    if not root:
        made = subprocess.run(["bash", str(REPO / "scripts" / "nemo-gym-env.sh")], capture_output=True, text=True, timeout=3600)
        if made.returncode != 0:
            why = f"no NeMo Gym {NEMO_GYM_VERSION} chroot (scripts/nemo-gym-env.sh):\n{made.stderr[-3000:]}"
            if os.environ.get("GYM_REQUIRE_NEMO_GYM") == "1":
                pytest.fail(why)
            pytest.skip(why)
        root = made.stdout.strip()
    return root


@pytest.fixture(scope="session")
def processes():
    p = Processes()
    yield p
    p.stop()


def start_nemo_gym(processes: Processes, root: str, *args: str, name: str) -> tuple[str, subprocess.Popen, Path]:
    """Starts one NeMo Gym server (test/nemo_gym/launch.py in the chroot); returns its URL, process and log."""
    port = free_port()
    proc, log = processes.start(
        ["bash", str(REPO / "scripts" / "nemo-gym-python.sh"), LAUNCH, *args, "--port", str(port)],
        name=name,
        cwd=REPO,
        env={**os.environ, "GYM_NEMO_GYM_ROOT": root},
    )
    return f"http://127.0.0.1:{port}", proc, log


def launch_nemo_gym(processes: Processes, root: str, *args: str, name: str) -> str:
    """Runs one NeMo Gym server and waits until it listens; returns its base URL."""
    url, proc, log = start_nemo_gym(processes, root, *args, name=name)
    wait_for_port(int(url.rsplit(":", 1)[1]), proc, log, f"NeMo Gym {NEMO_GYM_VERSION} server {name}")
    return url


@pytest.fixture(scope="session")
def nemo_weather(processes, nemo_gym_root) -> str:
    """NeMo Gym's own example_single_tool_call resources server."""
    return launch_nemo_gym(processes, nemo_gym_root, "resources", "example_single_tool_call", name="nemo_weather")


def serve_mesh(processes, name: str, config: str) -> dict[str, str]:
    """Starts `gym serve` on a config (written to LOGS/<name>.yaml) and returns each instance's http:// URL."""
    file = LOGS / f"{name}.yaml"
    file.write_text(config)
    proc, log = processes.start(
        ["node", str(REPO / "bin" / "gym.js"), "serve", "--config", str(file)],
        name=name,
        cwd=REPO,
        stdout=subprocess.PIPE,
        env={**os.environ, "GYM_LOG": "off"},
    )
    urls = {}
    for line in proc.stdout:
        if line.strip() == "ready":
            break
        # `<name>  <service>  http://...[  grpc://...]`: the NeMo Gym routes are on the http:// port.
        instance, *rest = line.split()
        urls[instance] = next(field for field in rest if field.startswith("http://"))
    else:
        pytest.fail(f"gym serve exited:\n{tail(log)}")
    return urls


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
    return serve_mesh(processes, "mesh", config)


@pytest.fixture(scope="session")
def rows() -> list[dict]:
    return [json.loads(line) for line in DATASET.read_text().splitlines() if line.strip()]

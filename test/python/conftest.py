"""Starts a real mesh (`gym serve`) once per test session."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest

from gym_mesh import connect

REPO = Path(__file__).resolve().parents[2]
CONFIG = Path(os.environ.get("GYM_TEST_CONFIG", REPO / "config" / "default.yaml"))
DATASET = REPO / "services" / "environments" / "example_single_tool_call" / "data" / "example.jsonl"

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
    proc: subprocess.Popen
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


def _group_members(pgid: int) -> str:
    """`ps` lines of the live (non-zombie) processes in a process group."""
    out = subprocess.run(["ps", "-eo", "pid=,pgid=,stat=,args="], capture_output=True, text=True).stdout
    return "".join(
        line + "\n"
        for line in out.splitlines()
        if len(f := line.split(None, 3)) >= 3 and f[1] == str(pgid) and not f[2].startswith("Z")
    )


def _reader(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)  # EOF


@pytest.fixture(scope="session")
def mesh():
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: cannot start the mesh")
    env = {**os.environ, "GYM_LOG": "off"}
    stderr_file = tempfile.NamedTemporaryFile(prefix="gym-serve-", suffix=".stderr", delete=False)
    stderr_path = Path(stderr_file.name)
    proc = subprocess.Popen(
        # The gym command itself (what `npx gym` runs), so SIGTERM reaches the server directly.
        [node, str(REPO / "bin" / "gym.js"), "serve", "--config", str(CONFIG)],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr_file,
        text=True,
        start_new_session=True,  # its own process group, so teardown can sweep leftovers
    )
    stderr_file.close()
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()

    def kill_group() -> None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)

    def startup_failure(why: str, stdout: list[str]) -> None:
        kill_group()
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
        stdout.append(line)
        if line.strip() == "ready":
            break
        m = _INSTANCE_LINE.match(line.rstrip("\n"))
        if m:
            instances[m.group(1)] = Instance(m.group(1), m.group(2).strip(), m.group(3), m.group(4))

    if not instances:
        startup_failure("printed 'ready' but no instance lines", stdout)
    m = Mesh(proc=proc, instances=instances, stderr_path=stderr_path)
    try:
        yield m
    finally:
        for ch in m._channels:
            ch.close()
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            kill_group()
            pytest.fail(f"the mesh did not stop within {SHUTDOWN_TIMEOUT_S:.0f} s of SIGTERM\n{m.stderr()}")
        # Helpers of the server (tsx's esbuild service) may take a moment to notice it is gone.
        deadline = time.monotonic() + 5
        while (leftover := _group_members(proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        if leftover:
            kill_group()
        stderr = m.stderr()
        stderr_path.unlink(missing_ok=True)
        assert code == 0, f"`gym serve` exited with {code} after SIGTERM\n--- stderr ---\n{stderr}"
        assert not leftover, f"processes of the mesh were still running after the mesh exited:\n{leftover}"


@pytest.fixture(scope="session")
def agent_channel(mesh: Mesh) -> grpc.Channel:
    return mesh.channel("gym.v1.AgentService")


@pytest.fixture(scope="session")
def rollout_channel(mesh: Mesh) -> grpc.Channel:
    return mesh.channel("gym.v1.RolloutService")


@pytest.fixture(scope="session")
def resources_channel(mesh: Mesh) -> grpc.Channel:
    return mesh.channel("gym.v1.ResourcesService")


@pytest.fixture(scope="session")
def dataset_rows() -> list[dict]:
    return [json.loads(line) for line in DATASET.read_text().splitlines() if line.strip()]

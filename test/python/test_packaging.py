"""The package as users get it: mypy --strict over the package and its
examples; the editable install (scripts/pytest.sh) seen by mypy; the wheel in
a fresh virtualenv beside OpenAI Gym (`gym==0.26.2`, whose top-level `gym`
the old `gym.v1` stubs collided with)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import DATASET, REPO, Mesh

import gymmesh

CLIENT = REPO / "clients" / "python"


def run(*args: str | Path, cwd: Path = CLIENT, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_mypy_strict_on_the_package_and_examples() -> None:
    done = run(sys.executable, "-m", "mypy")  # [tool.mypy] of pyproject.toml: strict, src and examples
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found" in done.stdout


def test_mypy_sees_the_stubs_of_the_editable_install(tmp_path: Path) -> None:
    if not Path(gymmesh.__file__).is_relative_to(CLIENT / "src"):
        pytest.skip("gymmesh is not the editable install of this repository (scripts/pytest.sh makes it)")
    user = tmp_path / "user.py"
    user.write_text(
        textwrap.dedent(
            """
            from gymmesh import GymClient, Result, token_data
            from gymmesh.v1 import agent_pb2_grpc, rollout_pb2, task_pb2

            def first_reward(client: GymClient, rows: list[str]) -> float | None:
                results: list[Result] = list(client.collect(rows, repeats=2))
                return results[0].reward

            request = rollout_pb2.CollectRequest(task_id="t", row_json="{}", first_repeat=1)
            which: str | None = request.WhichOneof("input")
            sequence = token_data.join(task_pb2.Rollout())
            ids: list[int] = sequence.input_ids
            stub = agent_pb2_grpc.AgentServiceStub
            wrong: int = request.task_id
            """
        )
    )
    # Run from elsewhere, so mypy finds gymmesh only where the install put it.
    done = run(sys.executable, "-m", "mypy", "--strict", "--no-incremental", user, cwd=tmp_path)
    # Exactly the one planted error: the stubs are found, and typed.
    assert done.returncode == 1, done.stdout + done.stderr
    planted = user.read_text().splitlines().index("wrong: int = request.task_id") + 1
    assert f'user.py:{planted}: error: Incompatible types in assignment (expression has type "str", variable has type "int")' in done.stdout, done.stdout
    assert "Found 1 error" in done.stdout, done.stdout


def test_the_wheel_in_a_fresh_venv_beside_openai_gym(tmp_path: Path, mesh: Mesh) -> None:
    wheels = tmp_path / "wheels"
    done = run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", wheels, CLIENT)
    assert done.returncode == 0, done.stderr
    [wheel] = wheels.glob("gym_mesh_client-*.whl")
    venv = tmp_path / "venv"
    assert run(sys.executable, "-m", "venv", venv).returncode == 0
    python = venv / "bin" / "python"
    done = run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel, "gym==0.26.2", timeout=600)
    assert done.returncode == 0, done.stderr
    script = tmp_path / "check.py"
    script.write_text(
        textwrap.dedent(
            """
            import json, sys
            from pathlib import Path

            import gymmesh
            from gymmesh import GymClient
            from gymmesh.v1 import agent_pb2, agent_pb2_grpc, rollout_pb2_grpc
            assert "gym" not in sys.modules, "importing gymmesh imported gym"
            import gym

            package = Path(gymmesh.__file__).parent
            stubs = Path(agent_pb2.__file__).parent
            url, row = sys.argv[1], sys.argv[2]
            result = GymClient(url, timeout=30).run(row)
            print(json.dumps({
                "gym": gym.__version__,
                "gym_make": callable(gym.make),
                "package": str(package),
                "stubs": str(stubs),
                "typed": sorted(p.name for p in package.glob("py.typed")) + sorted(p.name for p in stubs.glob("*.pyi")),
                "reward": result.reward,
            }))
            """
        )
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    row = DATASET.read_text().splitlines()[0]
    done = subprocess.run([str(python), str(script), mesh.url("example_single_tool_call_simple_agent"), row], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    got = json.loads(done.stdout.splitlines()[-1])
    site = str(venv / "lib")
    assert got["gym"] == "0.26.2" and got["gym_make"]
    assert got["package"].startswith(site) and got["stubs"] == got["package"] + "/v1"
    assert "py.typed" in got["typed"] and "agent_pb2.pyi" in got["typed"] and "agent_pb2_grpc.pyi" in got["typed"]
    assert got["reward"] == 1.0

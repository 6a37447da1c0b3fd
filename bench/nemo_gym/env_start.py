"""NeMo Gym's own `gym env start` (the installed release) for the benchmark
(bench/vs-nemo-gym.ts), with Ray switched off and no per-server venv build.

- Ray: `gym env start` starts a Ray cluster first, and a server class that
  does not declare `ray_enabled` (0.7.0's legacy_agent environment server)
  starts another one in its process ("a future release will default it to
  false"). Nothing on the benchmark's path (example_single_tool_call,
  simple_agent, openai_model, legacy_agent) uses Ray, and its daemons would
  only take CPU from the run, so both are switched off: here, and in every
  server through server.py.
- Venvs: each server runs from `uv_venv_dir/<type>/<name>/.venv` with
  `skip_venv_if_present=true`, which the benchmark points at the release's
  own installation (/opt/ng: every server's requirements are in it), so no
  uv venv is built; the launch command is otherwise NeMo Gym's own (cd into
  the server's folder, source the venv, run its interpreter on app.py).

Every argument goes to `gym env start` as it is:

    python env_start.py --config A.yaml --config B.yaml +key=value ...
"""

import shlex
import sys
from pathlib import Path

import nemo_gym.cli.env as env

SERVER = Path(__file__).resolve().parent / "server.py"


def no_ray() -> None:
    print("bench: Ray switched off (nothing on this path uses it)", flush=True)


def launch_command(dir_path, global_config_dict, server_name, entrypoint_fpath) -> str:
    # NeMo Gym's own command with server.py (Ray off) between the interpreter and app.py.
    command = original_launch_command(dir_path, global_config_dict, server_name, entrypoint_fpath)
    entry = shlex.quote(str(entrypoint_fpath))
    assert command.endswith(entry), command
    return f"{command[: -len(entry)]}{shlex.quote(str(SERVER))} {entry}"


original_launch_command = env._server_launch_command
env.initialize_ray = no_ray
env._server_launch_command = launch_command

from nemo_gym.cli.main import main  # noqa: E402

sys.argv = ["gym", "env", "start", *sys.argv[1:]]
main()

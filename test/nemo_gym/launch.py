"""Starts one of NeMo Gym's own servers (the installed release, in the chroot
of scripts/nemo-gym-env.sh) as `gym env start` does for each server: the
global config is composed by NeMo Gym's own parser (from the wheel's
`configs/*.yaml` of the server), then `python app.py` runs in the server's
folder with that config in NEMO_GYM_CONFIG_DICT and its instance name in
NEMO_GYM_CONFIG_PATH. What `gym env start` adds around it (a head server, Ray,
a uv venv per server) is left out: these servers use none of them.

    python launch.py resources NAME --port PORT [--config FILE] [--set KEY=YAML ...]
    python launch.py simple_agent --name NAME --port PORT \
        --resources NAME=http://HOST:PORT --model NAME=http://HOST:PORT

`resources` runs `resources_servers/NAME` with the instance of its
`configs/NAME.yaml` that names it (without that file, of the first of its
configs that has one; or of FILE, relative to the server's folder);
--set overrides a field of that instance (`grading_mode=lenient_boxed`).
`simple_agent` runs NeMo Gym's simple_agent against servers elsewhere (ours),
which the config names as a resources server and a model server at the given
addresses. The process execs into the server, so it keeps this PID.
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse

import yaml
from omegaconf import OmegaConf

from nemo_gym import PARENT_DIR
from nemo_gym.global_config import (
    NEMO_GYM_CONFIG_DICT_ENV_VAR_NAME,
    NEMO_GYM_CONFIG_PATH_ENV_VAR_NAME,
    GlobalConfigDictParser,
    GlobalConfigDictParserConfig,
)

HOST = "127.0.0.1"


def address(entry: str) -> tuple[str, dict]:
    name, url = entry.split("=", 1)
    parsed = urlparse(url)
    return name, {"host": parsed.hostname, "port": parsed.port}


def resources_config(name: str, port: int, config: str | None, sets: list[str]) -> tuple[Path, str, dict]:
    server_dir = PARENT_DIR / "resources_servers" / name
    if config:
        files = [server_dir / config]
    else:
        # configs/NAME.yaml, else the first config (by name) that has the server.
        files = [server_dir / f"configs/{name}.yaml"]
        files = [f for f in files if f.is_file()] or sorted((server_dir / "configs").glob("*.yaml"))
    for file in files:
        whole = OmegaConf.load(file)
        instances = [k for k, v in whole.items() if name in (v.get("resources_servers") or {})]
        if instances:
            break
    if len(instances) != 1:
        sys.exit(f"launch.py: {file} has {len(instances)} instances of resources_servers/{name}, not one")
    instance = instances[0]
    inner = whole[instance].resources_servers[name]
    inner.host, inner.port = HOST, port
    for entry in sets:
        key, value = entry.split("=", 1)
        inner[key] = yaml.safe_load(value)
    return server_dir, instance, {instance: whole[instance], **unstarted_models(inner, whole)}


def unstarted_models(inner, whole) -> dict:
    """Model servers the instance names (math_with_judge's judge_model_server) that its config file
    does not define: NeMo Gym refuses a config with such a reference, so each is named at an address
    where nothing listens (never started): the server starts, and a call to that model fails."""
    out = {}
    for value in inner.values():
        if OmegaConf.is_dict(value) and value.get("type") == "responses_api_models":
            name = OmegaConf.select(value, "name", default=None)
            if isinstance(name, str) and name not in whole:
                out[name] = {"responses_api_models": {"openai_model": {"entrypoint": "app.py", "host": HOST, "port": 9}}}
    return out


def simple_agent_config(name: str, port: int, resources: str, model: str) -> tuple[Path, str, dict]:
    resources_name, resources_at = address(resources)
    model_name, model_at = address(model)
    config = {
        name: {
            "responses_api_agents": {
                "simple_agent": {
                    "entrypoint": "app.py",
                    "host": HOST,
                    "port": port,
                    "resources_server": {"type": "resources_servers", "name": resources_name},
                    "model_server": {"type": "responses_api_models", "name": model_name},
                    "max_steps": 10,
                }
            }
        },
        # Servers of ours, named so that NeMo Gym's client finds them (never started here).
        resources_name: {"resources_servers": {resources_name: {"entrypoint": "app.py", "domain": "agent", **resources_at}}},
        model_name: {"responses_api_models": {"openai_model": {"entrypoint": "app.py", **model_at}}},
    }
    return PARENT_DIR / "responses_api_agents" / "simple_agent", name, config


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["resources", "simple_agent"])
    parser.add_argument("target", nargs="?", help="resources: the server's folder name in resources_servers/")
    parser.add_argument("--name", help="simple_agent: its instance name")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--config", help="resources: its config file, relative to its folder")
    parser.add_argument("--set", action="append", default=[], help="resources: KEY=VALUE for its instance")
    parser.add_argument("--resources", help="simple_agent: NAME=URL of the resources server")
    parser.add_argument("--model", help="simple_agent: NAME=URL of the model server")
    args = parser.parse_args()

    if args.kind == "resources":
        server_dir, instance, initial = resources_config(args.target, args.port, args.config, args.set)
    else:
        server_dir, instance, initial = simple_agent_config(args.name, args.port, args.resources, args.model)

    # NeMo Gym resolves its results and cache folders against the working
    # directory of the command that composes the config.
    os.chdir(tempfile.mkdtemp(prefix="nemo-gym-"))
    global_config = GlobalConfigDictParser().parse(
        GlobalConfigDictParserConfig(
            initial_global_config_dict=OmegaConf.create(initial),
            skip_load_from_cli=True,
            skip_load_from_dotenv=True,
        )
    )
    env = {
        **os.environ,
        NEMO_GYM_CONFIG_DICT_ENV_VAR_NAME: OmegaConf.to_yaml(global_config),
        NEMO_GYM_CONFIG_PATH_ENV_VAR_NAME: instance,
    }
    os.chdir(server_dir)
    os.execve(sys.executable, [sys.executable, "app.py"], env)


if __name__ == "__main__":
    main()

"""Runs one of NeMo Gym's own servers (from the `nemo-gym` package) on a port.

    python launch.py resources MODULE:CLASS --name NAME --port PORT
    python launch.py simple_agent --name NAME --port PORT \
        --resources NAME=http://HOST:PORT --model NAME=http://HOST:PORT

Servers find each other through NeMo Gym's global config (name -> host and
port), which this builds from the arguments.
"""

import argparse
import importlib
from urllib.parse import urlparse

import uvicorn
from omegaconf import OmegaConf

from nemo_gym.config_types import BaseServerConfig
from nemo_gym.server_utils import GlobalAIOHTTPAsyncClientConfig, ServerClient, set_global_aiohttp_client


def address(entry: str) -> tuple[str, dict]:
    name, url = entry.split("=", 1)
    parsed = urlparse(url)
    return name, {"host": parsed.hostname, "port": parsed.port}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["resources", "simple_agent"])
    parser.add_argument("target", nargs="?", help="MODULE:CLASS of a resources server")
    parser.add_argument("--name", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--resources", help="NAME=URL of the resources server (simple_agent)")
    parser.add_argument("--model", help="NAME=URL of the model server (simple_agent)")
    args = parser.parse_args()

    me = {"host": "127.0.0.1", "port": args.port}
    servers = {args.name: {"server": {args.name: me}}}
    if args.kind == "simple_agent":
        for entry in (args.resources, args.model):
            name, where = address(entry)
            servers[name] = {"server": {name: where}}
    client = ServerClient(
        head_server_config=BaseServerConfig(host="127.0.0.1", port=args.port),
        global_config_dict=OmegaConf.create(servers),
    )

    if args.kind == "resources":
        module, cls_name = args.target.split(":")
        cls = getattr(importlib.import_module(module), cls_name)
        config_cls = cls.model_fields["config"].annotation
        server = cls(config=config_cls(**me, entrypoint="app.py", name=args.name), server_client=client)
    else:
        from responses_api_agents.simple_agent.app import SimpleAgent, SimpleAgentConfig

        config = SimpleAgentConfig(
            **me,
            entrypoint="app.py",
            name=args.name,
            resources_server={"type": "resources_servers", "name": address(args.resources)[0]},
            model_server={"type": "responses_api_models", "name": address(args.model)[0]},
            max_steps=10,
        )
        server = SimpleAgent(config=config, server_client=client)

    app = server.setup_webserver()

    @app.on_event("startup")
    async def http_client() -> None:
        # NeMo Gym servers call each other through one global aiohttp client,
        # which it would otherwise configure from its own command line.
        set_global_aiohttp_client(GlobalAIOHTTPAsyncClientConfig())

    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()

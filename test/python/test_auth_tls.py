"""The token and TLS settings of the clients, against a tiny grpcio server
that answers Run and Collect with the metadata it received (the mesh's
servers do not check tokens or speak TLS yet)."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from concurrent import futures
from pathlib import Path
from typing import Any, Iterator

import grpc
import pytest

from gymmesh import AsyncGymClient, GymClient, GymError, Retry, connect
from gymmesh.v1 import agent_pb2, agent_pb2_grpc, rollout_pb2, rollout_pb2_grpc

ROW = {"responses_create_params": {"input": "hi"}}
ONCE = Retry(attempts=1)


def headers(context: grpc.ServicerContext) -> dict[str, Any]:
    md = dict(context.invocation_metadata())
    return {"authorization": md.get("authorization"), "x-request-id": md.get("x-request-id")}


class EchoAgent(agent_pb2_grpc.AgentServiceServicer):
    def Run(self, request: agent_pb2.RunRequest, context: grpc.ServicerContext) -> agent_pb2.RunResponse:  # type: ignore[override]
        return agent_pb2.RunResponse(output_line_json=json.dumps({**json.loads(request.row_json), **headers(context)}))


class EchoRollout(rollout_pb2_grpc.RolloutServiceServicer):
    def Collect(self, request_iterator: Iterator[rollout_pb2.CollectRequest], context: grpc.ServicerContext) -> Iterator[rollout_pb2.CollectResponse]:  # type: ignore[override]
        for req in request_iterator:
            line = {**json.loads(req.row_json), **headers(context), "_ng_task_index": req.task_index, "_ng_rollout_index": req.first_repeat}
            yield rollout_pb2.CollectResponse(task_id=req.task_id, repeat_index=req.first_repeat, output_line_json=json.dumps(line))


def serve(credentials: grpc.ServerCredentials | None = None) -> tuple[grpc.Server, int]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    agent_pb2_grpc.add_AgentServiceServicer_to_server(EchoAgent(), server)
    rollout_pb2_grpc.add_RolloutServiceServicer_to_server(EchoRollout(), server)
    if credentials is None:
        port = server.add_insecure_port("127.0.0.1:0")
    else:
        port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    return server, port


@pytest.fixture
def plain() -> Iterator[str]:
    server, port = serve()
    yield f"http://127.0.0.1:{port}"
    server.stop(None)


def test_the_token_goes_as_a_bearer_header(plain: str) -> None:
    with GymClient(plain, token="s3cret", retry=ONCE) as client:
        line = client.run(ROW, request_id="r-1").line
        assert line is not None and line["authorization"] == "Bearer s3cret" and line["x-request-id"] == "r-1"
        results = list(client.collect([ROW, ROW], repeats=2))
        assert len(results) == 4 and all(r.line and r.line["authorization"] == "Bearer s3cret" for r in results)
    with GymClient(plain, retry=ONCE) as client:
        line = client.run(ROW).line
        assert line is not None and line["authorization"] is None and line["x-request-id"] is None
    # The channel of connect() carries it to the generated stubs too.
    channel = connect(plain, token="s3cret")
    try:
        res = agent_pb2_grpc.AgentServiceStub(channel).Run(agent_pb2.RunRequest(row_json=json.dumps(ROW)), timeout=10)
        assert json.loads(res.output_line_json)["authorization"] == "Bearer s3cret"
    finally:
        channel.close()

    async def main() -> None:
        async with AsyncGymClient(plain, token="s3cret", retry=ONCE) as client:
            line = (await client.run(ROW, request_id="r-2")).line
            assert line is not None and line["authorization"] == "Bearer s3cret" and line["x-request-id"] == "r-2"
            results = [r async for r in client.collect([ROW], repeats=3)]
            assert sorted(r.repeat for r in results) == [0, 1, 2]
            assert all(r.line and r.line["authorization"] == "Bearer s3cret" for r in results)

    asyncio.run(main())


# ---------------------------------------------------------------------------
# TLS


class Pki:
    """A CA, a server certificate (127.0.0.1, localhost, mesh.test) and a client certificate."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory

        def run(*args: str) -> None:
            subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=gym test CA")
        (directory / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:mesh.test\n")
        (directory / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
        for name in ("server", "client"):
            run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
            run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", f"{name}.pem", "-days", "1", "-extfile", f"{name}.ext")

    def read(self, name: str) -> bytes:
        return (self.dir / name).read_bytes()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    if shutil.which("openssl") is None:
        pytest.skip("no openssl to make test certificates")
    return Pki(tmp_path_factory.mktemp("pki"))


def test_tls(pki: Pki) -> None:
    server, port = serve(grpc.ssl_server_credentials([(pki.read("server.key"), pki.read("server.pem"))]))
    url = f"https://127.0.0.1:{port}"
    try:
        with GymClient(url, root_certificates=pki.read("ca.pem"), token="t", retry=ONCE) as client:
            line = client.run(ROW).line
            assert line is not None and line["authorization"] == "Bearer t"
        with GymClient(url, root_certificates=pki.read("ca.pem"), tls_server_name="mesh.test", retry=ONCE) as client:
            assert client.run(ROW).ok
        # The wrong name, or roots that do not know the CA: no connection.
        for settings in ({"root_certificates": pki.read("ca.pem"), "tls_server_name": "other.test"}, {}):
            with GymClient(url, retry=ONCE, timeout=10, **settings) as client:  # type: ignore[arg-type]
                with pytest.raises(GymError) as err:
                    client.run(ROW)
                assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        # A plaintext client gets nowhere either.
        with GymClient(f"http://127.0.0.1:{port}", retry=ONCE, timeout=10) as client:
            with pytest.raises(GymError):
                client.run(ROW)

        async def main() -> None:
            async with AsyncGymClient(url, root_certificates=pki.read("ca.pem"), token="t", retry=ONCE) as client:
                results = [r async for r in client.collect([ROW], repeats=2)]
                assert len(results) == 2 and all(r.line and r.line["authorization"] == "Bearer t" for r in results)

        asyncio.run(main())
    finally:
        server.stop(None)


def test_mutual_tls(pki: Pki) -> None:
    credentials = grpc.ssl_server_credentials(
        [(pki.read("server.key"), pki.read("server.pem"))], root_certificates=pki.read("ca.pem"), require_client_auth=True
    )
    server, port = serve(credentials)
    url = f"https://127.0.0.1:{port}"
    mine = {"root_certificates": pki.read("ca.pem"), "private_key": pki.read("client.key"), "certificate_chain": pki.read("client.pem")}
    try:
        with GymClient(url, retry=ONCE, timeout=10, **mine) as client:  # type: ignore[arg-type]
            assert client.run(ROW).ok
            assert [r.ok for r in client.collect([ROW])] == [True]
        with GymClient(url, root_certificates=pki.read("ca.pem"), retry=ONCE, timeout=10) as client:
            with pytest.raises(GymError) as err:
                client.run(ROW)
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE

        async def main() -> None:
            async with AsyncGymClient(url, retry=ONCE, timeout=10, **mine) as client:  # type: ignore[arg-type]
                assert (await client.run(ROW)).ok

        asyncio.run(main())
    finally:
        server.stop(None)

"""Thin gRPC helpers: open a channel to a mesh instance, stream tasks through
RolloutService.Collect."""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping, Sequence

import grpc

from gym.v1 import rollout_pb2, rollout_pb2_grpc, task_pb2

from .convert import task_from_row

__all__ = ["connect", "collect", "target_of"]


def target_of(url: str) -> str:
    """``http://127.0.0.1:50051`` (as ``gym serve`` prints it) -> ``127.0.0.1:50051``."""
    for scheme in ("http://", "https://", "grpc://", "grpcs://"):
        if url.startswith(scheme):
            url = url[len(scheme) :]
            break
    return url.rstrip("/")


def connect(url: str, *, options: Sequence[tuple[str, Any]] | None = None) -> grpc.Channel:
    """A channel to one mesh instance. ``https://``/``grpcs://`` URLs use TLS with
    the default roots; anything else (``http://host:port``, ``host:port``) is
    plaintext HTTP/2, which is what ``gym serve`` speaks."""
    target = target_of(url)
    if url.startswith(("https://", "grpcs://")):
        return grpc.secure_channel(target, grpc.ssl_channel_credentials(), options=options)
    return grpc.insecure_channel(target, options=options)




def _as_task(task: Any) -> task_pb2.Task:
    if isinstance(task, task_pb2.Task):
        return task
    if isinstance(task, Mapping):
        return task_from_row(dict(task))
    raise TypeError(f"expected a gym.v1.Task or a dataset row (dict), got {type(task).__name__}")


def _requests(tasks: Iterable[Any], num_repeats: int, agent: str) -> Iterator[rollout_pb2.CollectRequest]:
    for i, t in enumerate(tasks):
        if isinstance(t, rollout_pb2.CollectRequest):
            yield t
            continue
        if isinstance(t, tuple):
            task_id, task = t
        else:
            task_id, task = str(i), t
        yield rollout_pb2.CollectRequest(
            task_id=str(task_id), task=_as_task(task), num_repeats=num_repeats, agent=agent
        )


def collect(
    stub: rollout_pb2_grpc.RolloutServiceStub | grpc.Channel,
    tasks: Iterable[Any],
    num_repeats: int = 1,
    *,
    agent: str = "",
    timeout: float | None = None,
    metadata: Sequence[tuple[str, str]] | None = None,
) -> Iterator[rollout_pb2.CollectResponse]:
    """Streams tasks through ``RolloutService.Collect``; yields the results as
    they finish (completion order, ``num_repeats`` results per task).

    ``tasks`` holds ``gym.v1.Task`` messages, dataset rows (dicts, converted
    with :func:`task_from_row`), ``(task_id, task_or_row)`` pairs or ready
    ``CollectRequest`` messages; a bare task's id is its index as a string.
    ``agent`` names the agent instance (empty: the service's default). A failed
    rollout is a result whose ``outcome`` is ``error``; transport failures
    raise ``grpc.RpcError``. Closing the generator early cancels the stream.
    """
    if isinstance(stub, grpc.Channel):
        stub = rollout_pb2_grpc.RolloutServiceStub(stub)
    call = stub.Collect(_requests(tasks, num_repeats, agent), timeout=timeout, metadata=metadata)
    try:
        yield from call
    finally:
        call.cancel()  # a no-op once the stream has ended

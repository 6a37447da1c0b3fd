"""What the sync and asyncio clients share: requests from rows or tasks,
results from responses, errors from failed calls."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import grpc

from gymmesh.v1 import agent_pb2, rollout_pb2, task_pb2

from ._types import Failure, GymError, Result, Row, status_code

RUN = "/gymmesh.v1.AgentService/Run"
COLLECT = "/gymmesh.v1.RolloutService/Collect"
_WHO_SERVES = {RUN: "an agent instance", COLLECT: "the rollout instance"}

Task = task_pb2.Task
TaskOrRow = Row | task_pb2.Task


def encode_row(row: Row, what: str) -> str:
    """A row as the JSON text of ``row_json`` (a str row is sent as it is)."""
    if isinstance(row, str):
        return row.strip()
    if isinstance(row, Mapping):
        try:
            return json.dumps(row, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError) as err:
            raise TypeError(f"{what}: the row is not JSON: {err}") from None
    raise TypeError(f"{what}: expected a row (dict or JSON line) or a gymmesh.v1 Task, got {type(row).__name__}")


@dataclass(frozen=True)
class Unit:
    """One rollout to run: a (task, repeat) and its request."""

    index: int
    repeat: int
    request: rollout_pb2.CollectRequest
    # The row as given (for failure lines); None for a typed Task.
    row: Row | None

    @property
    def task_id(self) -> str:
        return self.request.task_id


def with_seed(row: Row, seed: int) -> Row:
    """The row with ``seed`` in the JSON text of
    ``responses_create_params.metadata.extra_body``, as NeMo Gym's
    ``num_repeats_add_seed`` (and ``gym collect --num-repeats-add-seed``) set it;
    OpenAI-compatible backends (vLLM) merge extra_body into the request. A row
    that is not a JSON object with responses_create_params is left as it is."""
    data: Any = row
    if isinstance(row, str):
        try:
            data = json.loads(row)
        except ValueError:
            return row
    params = data.get("responses_create_params") if isinstance(data, Mapping) else None
    if not isinstance(params, Mapping):
        return row
    metadata = dict(params.get("metadata") or {})
    try:
        extra = json.loads(metadata.get("extra_body") or "{}")
    except (TypeError, ValueError):
        extra = {}
    metadata["extra_body"] = json.dumps({**(extra if isinstance(extra, dict) else {}), "seed": seed})
    return {**data, "responses_create_params": {**params, "metadata": metadata}}


def units_of(index: int, item: TaskOrRow, repeats: int, agent: str, add_seed: bool = False) -> Iterator[Unit]:
    """The repeats of one task: one request each (``num_repeats`` 1,
    ``first_repeat`` the repeat), so any subset of a group can be sent again."""
    if isinstance(item, task_pb2.Task):
        if add_seed:
            raise TypeError(f"task {index}: add_seed needs rows (dicts or JSON lines), not typed Tasks")
        payload: dict[str, Any] = {"task": item}
        row: Row | None = None
    else:
        payload = {"row_json": encode_row(item, f"task {index}"), "want_output_lines": True}
        row = item
    for repeat in range(repeats):
        sent = row
        if add_seed and row is not None:
            sent = with_seed(row, repeat)
            payload["row_json"] = encode_row(sent, f"task {index}")
        request = rollout_pb2.CollectRequest(
            task_id=f"{index}.{repeat}",
            num_repeats=1,
            first_repeat=repeat,
            agent=agent,
            task_index=index,
            **payload,
        )
        yield Unit(index, repeat, request, sent)


def all_units(tasks: Iterable[TaskOrRow], repeats: int, agent: str, add_seed: bool = False) -> Iterator[Unit]:
    for index, item in enumerate(tasks):
        yield from units_of(index, item, repeats, agent, add_seed)


def result_of(unit: Unit, response: rollout_pb2.CollectResponse) -> Result:
    outcome = response.WhichOneof("outcome")
    if outcome == "output_line_json":
        return Result(unit.index, unit.repeat, response.agent, line=json.loads(response.output_line_json))
    if outcome == "rollout":
        return Result(unit.index, unit.repeat, response.agent, rollout=response.rollout)
    if outcome == "error":
        failure = Failure(status_code(response.error.code), response.error.message)
    else:
        failure = Failure(grpc.StatusCode.UNKNOWN, f"the server sent a result without an outcome for task {unit.index}")
    line = None if unit.row is None else failure_line(unit, response.agent, failure)
    return Result(unit.index, unit.repeat, response.agent, line=line, error=failure)


def failure_line(unit: Unit, agent: str, failure: Failure) -> dict[str, Any]:
    """The line ``gym collect`` writes to its failures file."""
    row: Any = unit.row
    if isinstance(row, str):
        try:
            row = json.loads(row)
        except ValueError:
            row = {}
    fields = dict(row) if isinstance(row, Mapping) else {}
    return {
        **fields,
        "_ng_task_index": unit.index,
        "_ng_rollout_index": unit.repeat,
        "agent_ref": {"name": agent},
        "error": {"code": failure.code_name.lower(), "message": failure.message},
    }


def run_request(task: TaskOrRow, rollout_id: str) -> agent_pb2.RunRequest:
    if isinstance(task, task_pb2.Task):
        return agent_pb2.RunRequest(task=task, rollout_id=rollout_id)
    return agent_pb2.RunRequest(row_json=encode_row(task, "run"), rollout_id=rollout_id, want_output_line=True)


def run_result(request: agent_pb2.RunRequest, response: agent_pb2.RunResponse) -> Result:
    if request.WhichOneof("input") == "task":
        return Result(0, 0, "", rollout=response.rollout)
    line: dict[str, Any] = json.loads(response.output_line_json)
    ref = line.get("agent_ref")
    agent = ref.get("name", "") if isinstance(ref, dict) else ""
    return Result(0, 0, agent if isinstance(agent, str) else "", line=line)


def status_of(err: BaseException) -> tuple[grpc.StatusCode, str]:
    code, details = getattr(err, "code", None), getattr(err, "details", None)
    got = code() if callable(code) else None
    text = details() if callable(details) else None
    return (got if isinstance(got, grpc.StatusCode) else grpc.StatusCode.UNKNOWN, text if isinstance(text, str) else str(err))


def gym_error(err: BaseException, url: str, method: str, tries: int = 1) -> GymError:
    """A failed call as a GymError that says what to do about it."""
    code, details = status_of(err)
    if code == grpc.StatusCode.UNIMPLEMENTED:
        details = f"{url} does not serve {method.rsplit('/', 1)[0].lstrip('/')} ({details}): pass the URL of {_WHO_SERVES.get(method, 'the right instance')} (gym serve prints one per instance)"
    elif code == grpc.StatusCode.UNAVAILABLE:
        details = f"cannot reach {url}: {details}" + (f" (gave up after {tries} tries)" if tries > 1 else "")
    return GymError(code, details, url=url, method=method)


def deadline_error(url: str, method: str, timeout: float | None) -> GymError:
    return GymError(grpc.StatusCode.DEADLINE_EXCEEDED, f"the deadline ({timeout} s) passed", url=url, method=method)


def unanswered_error(url: str, tries: int) -> GymError:
    return GymError(
        grpc.StatusCode.UNAVAILABLE,
        f"the server ended the stream with rollouts unanswered (gave up after {tries} tries)",
        url=url,
        method=COLLECT,
    )

"""What the clients take and give: rows, results, failures, errors, retries."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Mapping, Union

import grpc

from gymmesh.v1 import task_pb2

__all__ = ["Failure", "GymError", "Result", "Retry", "Row", "status_code"]

#: A NeMo Gym dataset row: a dict, or one JSONL line as it is (sent unparsed).
Row = Union[Mapping[str, Any], str]

_CODES = {c.value[0]: c for c in grpc.StatusCode}


def status_code(code: int) -> grpc.StatusCode:
    """A google.rpc.Status code (an int) as a grpc.StatusCode (UNKNOWN when unknown)."""
    return _CODES.get(code, grpc.StatusCode.UNKNOWN)


class GymError(grpc.RpcError):
    """A call that failed: the server's status, or the client gave up.

    Like the grpc.RpcError it subclasses (so ``except grpc.RpcError`` catches
    it), ``code()`` and ``details()`` give the status; ``str()`` says which
    call to which URL failed and why."""

    def __init__(self, code: grpc.StatusCode, details: str, *, url: str = "", method: str = "") -> None:
        self._code = code
        self._details = details
        self.url = url
        self.method = method
        where = f"{method} at {url}: " if method and url else ""
        super().__init__(f"{where}{code.name}: {details}")

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    @property
    def code_name(self) -> str:
        """``"UNAVAILABLE"``, ``"DEADLINE_EXCEEDED"``..."""
        return self._code.name


@dataclass(frozen=True)
class Failure:
    """Why one rollout failed (a google.rpc.Status from the server)."""

    code: grpc.StatusCode
    message: str

    @property
    def code_name(self) -> str:
        """``"NOT_FOUND"``, ``"INVALID_ARGUMENT"``..."""
        return self.code.name


@dataclass(frozen=True)
class Result:
    """One rollout (or its failure).

    ``index`` is the task's position in the input (``_ng_task_index``),
    ``repeat`` which of its repeats this is (``_ng_rollout_index``), ``agent``
    the agent instance that ran it.

    A task given as a row gets ``line``: on success the NeMo Gym output line
    exactly as ``gym collect`` writes it (the row plus ``response``,
    ``reward``, the verifier's fields, ``_ng_task_index``,
    ``_ng_rollout_index``, ``agent_ref``); on failure the line ``gym collect``
    writes to its failures file (the row, the indexes and ``error: {code,
    message}``). A task given as a typed ``Task`` gets ``rollout`` (the typed
    Rollout) on success and no line. ``error`` is set exactly when the rollout
    failed."""

    index: int
    repeat: int
    agent: str
    line: dict[str, Any] | None = None
    rollout: task_pb2.Rollout | None = field(default=None, repr=False)
    error: Failure | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def reward(self) -> float | None:
        """The rollout's reward, None for a failure."""
        if self.error is not None:
            return None
        if self.rollout is not None:
            return self.rollout.verdict.reward
        value = (self.line or {}).get("reward", 0.0)
        return float(value) if isinstance(value, (int, float)) else None


@dataclass(frozen=True)
class Retry:
    """How calls are retried: on a status in ``codes`` (UNAVAILABLE: the server
    is not up, restarting, or the connection broke), up to ``attempts`` tries
    with exponential backoff (``initial_backoff`` seconds, times
    ``multiplier`` each time, at most ``max_backoff``, +-20% jitter). A Collect
    stream that delivered results before it broke starts counting again.
    ``Retry(attempts=1)`` never retries."""

    attempts: int = 8
    initial_backoff: float = 0.2
    max_backoff: float = 5.0
    multiplier: float = 2.0
    codes: frozenset[grpc.StatusCode] = frozenset({grpc.StatusCode.UNAVAILABLE})

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("Retry.attempts must be at least 1")

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed try number ``attempt`` (from 1)."""
        base = min(self.max_backoff, self.initial_backoff * self.multiplier ** max(0, attempt - 1))
        return base * random.uniform(0.8, 1.2)

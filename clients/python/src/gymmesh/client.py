"""GymClient: Run and Collect over grpcio (threads)."""

from __future__ import annotations

import threading
import time
from collections import deque
from types import TracebackType
from typing import Any, Generator, Iterable, Iterator, Sequence

import grpc

from gymmesh.v1 import agent_pb2_grpc, rollout_pb2, rollout_pb2_grpc

from ._channel import connect
from ._types import Result, Retry
from ._work import COLLECT, RUN, TaskOrRow, Unit, all_units, deadline_error, gym_error, result_of, run_request, run_result, status_of, unanswered_error

__all__ = ["GymClient"]


class GymClient:
    """A client of one mesh instance: ``run()`` needs an agent instance's URL,
    ``collect()`` the rollout instance's (``gym serve`` prints one URL per
    instance; its ``http://`` or ``grpc://`` one).

    Tasks are NeMo Gym dataset rows (dicts, or JSONL lines as they are),
    sent as ``row_json``; results carry the NeMo Gym output line. Typed
    ``gymmesh.v1.Task`` messages work too and give typed rollouts (see
    :class:`gymmesh.Result`).

    ``timeout`` is the default deadline of a call in seconds (None: none);
    ``retry`` says how UNAVAILABLE is retried; ``token``, ``root_certificates``,
    ``private_key``, ``certificate_chain``, ``tls_server_name`` and
    ``options`` are those of :func:`gymmesh.connect`.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        root_certificates: bytes | None = None,
        private_key: bytes | None = None,
        certificate_chain: bytes | None = None,
        tls_server_name: str | None = None,
        timeout: float | None = None,
        retry: Retry | None = None,
        options: Sequence[tuple[str, Any]] = (),
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.retry = retry or Retry()
        self.channel = connect(
            url,
            token=token,
            root_certificates=root_certificates,
            private_key=private_key,
            certificate_chain=certificate_chain,
            tls_server_name=tls_server_name,
            options=options,
        )
        self._agent = agent_pb2_grpc.AgentServiceStub(self.channel)
        self._rollout = rollout_pb2_grpc.RolloutServiceStub(self.channel)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> GymClient:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _deadline(self, timeout: float | None) -> tuple[float | None, float | None]:
        t = self.timeout if timeout is None else timeout
        return t, (None if t is None else time.monotonic() + t)

    def _pause(self, tries: int, deadline: float | None) -> bool:
        """Sleeps before the next try; False when the deadline comes first."""
        delay = self.retry.backoff(tries)
        if deadline is not None and time.monotonic() + delay >= deadline:
            return False
        time.sleep(delay)
        return True

    def run(
        self,
        task: TaskOrRow,
        *,
        rollout_id: str = "",
        request_id: str | None = None,
        timeout: float | None = None,
    ) -> Result:
        """One rollout (``AgentService.Run``). A row gives a Result with the
        NeMo Gym output line, a Task one with the typed rollout. A failure
        raises :class:`gymmesh.GymError` (a grpc.RpcError): UNAVAILABLE after
        the retries, DEADLINE_EXCEEDED past ``timeout``, INVALID_ARGUMENT for a
        row the server cannot read... ``request_id`` is sent as
        ``x-request-id`` (the servers' logs carry it)."""
        request = run_request(task, rollout_id)
        metadata = (("x-request-id", request_id),) if request_id else None
        limit, deadline = self._deadline(timeout)
        tries = 0
        while True:
            tries += 1
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise deadline_error(self.url, RUN, limit)
            try:
                response = self._agent.Run(request, timeout=left, metadata=metadata)
            except grpc.RpcError as err:
                code, _ = status_of(err)
                if code in self.retry.codes and tries < self.retry.attempts and self._pause(tries, deadline):
                    continue
                raise gym_error(err, self.url, RUN, tries) from err
            return run_result(request, response)

    def collect(
        self,
        tasks: Iterable[TaskOrRow],
        *,
        repeats: int = 1,
        max_in_flight: int = 64,
        agent: str = "",
        add_seed: bool = False,
        timeout: float | None = None,
    ) -> Generator[Result, None, None]:
        """Runs every task ``repeats`` times over one ``RolloutService.Collect``
        stream; yields a Result per (task, repeat) as each finishes
        (completion order). A failed rollout is a Result with ``error`` and the
        stream goes on.

        ``tasks`` is read lazily; at most ``max_in_flight`` rollouts are out at
        once. ``agent`` names the agent instance for every task (empty: each
        row's ``agent_ref.name``, else the rollout service's default agent).
        ``add_seed`` gives each repeat of a row its index as ``seed`` (in
        ``responses_create_params.metadata.extra_body``, as NeMo Gym's
        ``num_repeats_add_seed``), so a group's samples differ on backends
        that honour it. ``timeout`` is a deadline for the whole collect.

        When the stream breaks (UNAVAILABLE: the server restarts, the
        connection drops) the client opens a new one and sends again exactly
        the (task, repeat)s not answered yet: every one is yielded once. After
        ``retry.attempts`` broken streams in a row without a result, or on any
        other stream failure, it raises :class:`gymmesh.GymError`. Closing the
        iterator (``break``, ``close()``) cancels the stream and its rollouts.
        """
        if repeats < 1:
            raise ValueError("repeats must be at least 1")
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        return self._collect(_Plan(all_units(tasks, repeats, agent, add_seed), max_in_flight), timeout)

    def _collect(self, plan: _Plan, timeout: float | None) -> Generator[Result, None, None]:
        limit, deadline = self._deadline(timeout)
        tries = 0
        try:
            while not plan.finished():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise deadline_error(self.url, COLLECT, limit)
                generation = plan.generation
                call = self._rollout.Collect(plan.requests(generation), timeout=left)
                plan.call = call
                progressed = False
                failure: grpc.RpcError | None = None
                try:
                    for response in call:
                        unit = plan.answered(response.task_id)
                        if unit is None:
                            continue  # already yielded, or not ours
                        progressed = True
                        yield result_of(unit, response)
                except grpc.RpcError as err:
                    failure = err
                finally:
                    plan.next_generation()
                    call.cancel()  # type: ignore[no-untyped-call]  # (grpc-stubs leaves it untyped)
                plan.raise_error()
                if failure is None and plan.finished():
                    return
                if progressed:
                    tries = 0
                tries += 1
                if failure is not None:
                    code, _ = status_of(failure)
                    if code not in self.retry.codes or tries >= self.retry.attempts:
                        raise gym_error(failure, self.url, COLLECT, tries) from failure
                elif tries >= self.retry.attempts:
                    raise unanswered_error(self.url, tries)
                if not self._pause(tries, deadline):
                    raise deadline_error(self.url, COLLECT, limit)
        finally:
            plan.close()


class _Plan:
    """The rollouts of one collect: which are out (sent, not answered), which
    are still to send. Each stream gets a generation; its request iterator
    (run by a grpcio thread) stops when the generation moves on. Pulling from
    the tasks and registering what was pulled happen under one lock, so no
    rollout is lost or sent twice between two streams."""

    def __init__(self, units: Iterator[Unit], max_in_flight: int) -> None:
        self._units = units
        self._max = max_in_flight
        self._cond = threading.Condition()
        self._pull = threading.Lock()
        self._pending: dict[str, Unit] = {}
        self._pushback: deque[Unit] = deque()
        self._exhausted = False
        self._closed = False
        self._error: BaseException | None = None
        self.generation = 0
        self.call: Any = None

    def finished(self) -> bool:
        with self._cond:
            return self._exhausted and not self._pending and not self._pushback

    def answered(self, task_id: str) -> Unit | None:
        with self._cond:
            unit = self._pending.pop(task_id, None)
            self._cond.notify_all()
            return unit

    def next_generation(self) -> None:
        with self._cond:
            self.generation += 1
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self.generation += 1
            self._cond.notify_all()

    def raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def requests(self, generation: int) -> Iterator[rollout_pb2.CollectRequest]:
        with self._cond:
            resend = [u.request for u in self._pending.values()]
        for request in resend:
            if self.generation != generation:
                return
            yield request
        while True:
            with self._cond:
                while len(self._pending) >= self._max and self.generation == generation:
                    self._cond.wait()
                if self.generation != generation:
                    return
            unit = self._next(generation)
            if unit is None:
                return
            yield unit.request

    def _next(self, generation: int) -> Unit | None:
        with self._pull:
            with self._cond:
                unit = self._pushback.popleft() if self._pushback else None
            if unit is None and not self._exhausted:
                try:
                    unit = next(self._units, None)
                except Exception as err:  # the caller's iterable failed: end the collect with its error
                    self._error = err
                    unit = None
                    if self.call is not None:
                        self.call.cancel()
            with self._cond:
                if unit is None:
                    self._exhausted = True
                    return None
                if self.generation != generation or self._closed:
                    self._pushback.appendleft(unit)
                    return None
                self._pending[unit.task_id] = unit
                return unit

"""AsyncGymClient: Run and Collect over grpc.aio (asyncio)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from types import TracebackType
from typing import Any, AsyncGenerator, AsyncIterable, AsyncIterator, Iterable, Iterator, Sequence

import grpc
import grpc.aio

from gymmesh.v1 import agent_pb2_grpc, rollout_pb2, rollout_pb2_grpc

from ._channel import connect_async
from ._types import Result, Retry
from ._work import COLLECT, RUN, TaskOrRow, Unit, deadline_error, gym_error, result_of, run_request, run_result, status_of, unanswered_error, units_of

__all__ = ["AsyncGymClient"]


class AsyncGymClient:
    """The asyncio twin of :class:`gymmesh.GymClient`: the same arguments,
    ``await client.run(row)`` and ``async for result in client.collect(rows)``.

    Cancelling the task that iterates ``collect()`` (or leaving the ``async
    for``, or ``aclose()`` of the iterator) cancels the stream, and the mesh
    stops its rollouts. Use it inside the event loop that created it.
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
        self.channel = connect_async(
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

    async def close(self) -> None:
        await self.channel.close(None)

    async def __aenter__(self) -> AsyncGymClient:
        return self

    async def __aexit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    def _deadline(self, timeout: float | None) -> tuple[float | None, float | None]:
        t = self.timeout if timeout is None else timeout
        return t, (None if t is None else time.monotonic() + t)

    async def _pause(self, tries: int, deadline: float | None) -> bool:
        delay = self.retry.backoff(tries)
        if deadline is not None and time.monotonic() + delay >= deadline:
            return False
        await asyncio.sleep(delay)
        return True

    async def run(
        self,
        task: TaskOrRow,
        *,
        rollout_id: str = "",
        request_id: str | None = None,
        timeout: float | None = None,
    ) -> Result:
        """One rollout (``AgentService.Run``); see :meth:`gymmesh.GymClient.run`."""
        request = run_request(task, rollout_id)
        metadata = grpc.aio.Metadata(("x-request-id", request_id)) if request_id else None
        limit, deadline = self._deadline(timeout)
        tries = 0
        while True:
            tries += 1
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise deadline_error(self.url, RUN, limit)
            try:
                response = await self._agent.Run(request, timeout=left, metadata=metadata)
            except grpc.RpcError as err:
                code, _ = status_of(err)
                if code in self.retry.codes and tries < self.retry.attempts and await self._pause(tries, deadline):
                    continue
                raise gym_error(err, self.url, RUN, tries) from err
            return run_result(request, response)

    def collect(
        self,
        tasks: Iterable[TaskOrRow] | AsyncIterable[TaskOrRow],
        *,
        repeats: int = 1,
        max_in_flight: int = 64,
        agent: str = "",
        add_seed: bool = False,
        timeout: float | None = None,
    ) -> AsyncGenerator[Result, None]:
        """Runs every task ``repeats`` times over one ``RolloutService.Collect``
        stream and yields the Results as they finish; see
        :meth:`gymmesh.GymClient.collect`. ``tasks`` may be an async iterable."""
        if repeats < 1:
            raise ValueError("repeats must be at least 1")
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        return self._collect(_AsyncPlan(tasks, repeats, agent, add_seed, max_in_flight), timeout)

    async def _collect(self, plan: _AsyncPlan, timeout: float | None) -> AsyncGenerator[Result, None]:
        limit, deadline = self._deadline(timeout)
        tries = 0
        try:
            while not plan.finished():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise deadline_error(self.url, COLLECT, limit)
                call = self._rollout.Collect(plan.requests(plan.generation), timeout=left)
                plan.call = call
                progressed = False
                failure: grpc.RpcError | None = None
                try:
                    async for response in call:
                        unit = plan.answered(response.task_id)
                        if unit is None:
                            continue  # already yielded, or not ours
                        progressed = True
                        yield result_of(unit, response)
                except grpc.RpcError as err:
                    failure = err
                finally:
                    plan.next_generation()
                    call.cancel()
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
                if not await self._pause(tries, deadline):
                    raise deadline_error(self.url, COLLECT, limit)
        finally:
            plan.close()


class _AsyncPlan:
    """:class:`gymmesh.client._Plan` on one event loop: no threads, but a
    pull from an async iterable may suspend, so pulls are serialized and the
    generation is checked after each."""

    def __init__(
        self, tasks: Iterable[TaskOrRow] | AsyncIterable[TaskOrRow], repeats: int, agent: str, add_seed: bool, max_in_flight: int
    ) -> None:
        self._tasks: Any = tasks.__aiter__() if isinstance(tasks, AsyncIterable) else iter(tasks)
        self._repeats = repeats
        self._agent = agent
        self._add_seed = add_seed
        self._max = max_in_flight
        self._index = 0
        self._batch: Iterator[Unit] = iter(())
        self._pull = asyncio.Lock()
        self._pulling: asyncio.Future[Unit | None] | None = None
        self._changed = asyncio.Event()
        self._pending: dict[str, Unit] = {}
        self._pushback: deque[Unit] = deque()
        self._exhausted = False
        self._closed = False
        self._error: BaseException | None = None
        self.generation = 0
        self.call: Any = None

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def finished(self) -> bool:
        return self._exhausted and not self._pending and not self._pushback

    def answered(self, task_id: str) -> Unit | None:
        unit = self._pending.pop(task_id, None)
        self._notify()
        return unit

    def next_generation(self) -> None:
        self.generation += 1
        self._notify()

    def close(self) -> None:
        self._closed = True
        if self._pulling is not None:
            self._pulling.cancel()
        self.next_generation()

    def raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    async def requests(self, generation: int) -> AsyncIterator[rollout_pb2.CollectRequest]:
        for request in [u.request for u in self._pending.values()]:
            if self.generation != generation:
                return
            yield request
        while True:
            while len(self._pending) >= self._max and self.generation == generation:
                await self._changed.wait()
            if self.generation != generation:
                return
            unit = await self._next(generation)
            if unit is None:
                return
            yield unit.request

    async def _next_task(self) -> TaskOrRow | None:
        if isinstance(self._tasks, Iterator):
            return next(self._tasks, None)
        try:
            item: TaskOrRow = await self._tasks.__anext__()
        except StopAsyncIteration:
            return None
        return item

    async def _next_unit(self) -> Unit | None:
        while True:
            unit = next(self._batch, None)
            if unit is not None:
                return unit
            item = await self._next_task()
            if item is None:
                return None
            self._batch = units_of(self._index, item, self._repeats, self._agent, self._add_seed)
            self._index += 1

    async def _next(self, generation: int) -> Unit | None:
        async with self._pull:
            unit = self._pushback.popleft() if self._pushback else None
            if unit is None and not self._exhausted:
                # A stream that breaks cancels its request iterator, maybe
                # while it waits here for the caller's async iterable: the pull
                # runs in its own task (shielded), so the cancellation never
                # reaches the caller's iterable, and the next stream picks up
                # what it pulled.
                if self._pulling is None:
                    self._pulling = asyncio.ensure_future(self._next_unit())
                try:
                    unit = await asyncio.shield(self._pulling)
                except Exception as err:  # the caller's iterable failed: end the collect with its error
                    self._error = err
                    unit = None
                    if self.call is not None:
                        self.call.cancel()
                self._pulling = None
            if unit is None:
                self._exhausted = True
                return None
            if self.generation != generation or self._closed:
                self._pushback.appendleft(unit)
                return None
            self._pending[unit.task_id] = unit
            return unit

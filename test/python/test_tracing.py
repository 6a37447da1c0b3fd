"""Traces: a Python caller's OpenTelemetry span reaches the mesh
(opentelemetry-instrumentation-grpc's interceptors, the client's `otel`
extra), so the rollout's spans are in the caller's trace: the output line's
trace id is the caller's, and the mesh's spans (written to a file by the
mesh's file exporter) hang under the client's call span."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from gymmesh import AsyncGymClient, GymClient

from conftest import CONFIG, Mesh, start_mesh

EXPORTER = InMemorySpanExporter()
TRACER = trace.get_tracer("gymmesh-test")  # a proxy until the fixture sets the provider


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Mesh, Path]]:
    """This process traces (into EXPORTER; set once, here, so the other tests' calls make no spans
    before it); a mesh that traces, its spans in an OTLP-JSON lines file (exported every 0.1 s)."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    trace.set_tracer_provider(provider)
    spans = tmp_path_factory.mktemp("traces") / "traces.jsonl"
    env = {"OTEL_TRACES_EXPORTER": "file", "GYM_TRACES_FILE": str(spans), "OTEL_BSP_SCHEDULE_DELAY": "100"}
    mesh = start_mesh(CONFIG, env)
    try:
        yield mesh, spans
    finally:
        mesh.stop()


def mesh_spans(file: Path, trace_id: str, want: str) -> list[dict[str, Any]]:
    """The mesh's spans of one trace, once the span named `want` has been exported."""
    deadline = time.monotonic() + 30
    while True:
        spans = []
        if file.exists():
            for line in file.read_text().splitlines():
                for resource in json.loads(line)["resourceSpans"]:
                    for scope in resource["scopeSpans"]:
                        spans += [s for s in scope["spans"] if s["traceId"] == trace_id]
        if any(s["name"] == want for s in spans) or time.monotonic() > deadline:
            return spans


def client_span_of(trace_id: int, method: str) -> Any:
    found = [
        s
        for s in EXPORTER.get_finished_spans()
        if s.kind == SpanKind.CLIENT and s.context is not None and s.context.trace_id == trace_id and s.name.endswith(method)
    ]
    assert len(found) == 1, [s.name for s in EXPORTER.get_finished_spans()]
    return found[0]


def check(mesh_file: Path, trace_id: int, line: dict[str, Any] | None, method: str) -> None:
    hex_id = format(trace_id, "032x")
    assert line is not None and line["_ng_trace_id"] == hex_id
    call = client_span_of(trace_id, method)
    spans = mesh_spans(mesh_file, hex_id, "gym.rollout")
    names = {s["name"] for s in spans}
    assert {"gym.rollout", "verify", "execute_tool get_weather"} <= names, names
    assert any(n.startswith("chat ") for n in names), names
    # The mesh's first span is a child of the client's call span (the traceparent it sent).
    children = [s["name"] for s in spans if s.get("parentSpanId") == format(call.context.span_id, "016x")]
    assert children == [f"gymmesh.v1.{method}"]


def test_run_joins_the_callers_trace(traced: tuple[Mesh, Path], dataset_rows: list[dict[str, Any]]) -> None:
    mesh, spans = traced
    with GymClient(mesh.by_service("gymmesh.v1.AgentService").url, timeout=60) as client:
        with TRACER.start_as_current_span("train-step") as span:
            result = client.run(dataset_rows[0])
    check(spans, span.get_span_context().trace_id, result.line, "AgentService/Run")


def test_async_collect_joins_the_callers_trace(traced: tuple[Mesh, Path], dataset_rows: list[dict[str, Any]]) -> None:
    mesh, spans = traced

    async def go() -> tuple[int, list[Any]]:
        async with AsyncGymClient(mesh.by_service("gymmesh.v1.RolloutService").url, timeout=60) as client:
            with TRACER.start_as_current_span("collect-step") as span:
                results = [r async for r in client.collect(dataset_rows[:1], repeats=2)]
        return span.get_span_context().trace_id, results

    trace_id, results = asyncio.run(go())
    assert len(results) == 2
    # Collect is one stream for many rollouts: each rollout's gym.rollout is a child of the caller's trace.
    for result in results:
        assert result.line is not None and result.line["_ng_trace_id"] == format(trace_id, "032x")
    client_span_of(trace_id, "RolloutService/Collect")
    rollouts = [s for s in mesh_spans(spans, format(trace_id, "032x"), "gym.rollout") if s["name"] == "gym.rollout"]
    assert len(rollouts) >= 1

"""Trace context on every call, when OpenTelemetry is there.

With the ``otel`` extra installed (``pip install gym-mesh-client[otel]``:
opentelemetry-instrumentation-grpc), each channel the client makes gets that
package's client interceptors: every call is a CLIENT span of the active
trace, and carries its W3C ``traceparent`` to the mesh, whose spans (the
rollout, model calls, tool calls, verify) join the caller's trace. They use
the process's tracer provider when they run: configure OpenTelemetry as
usual (before or after making the client). Without the extra, or with
``GYM_OTEL_GRPC=0``, channels are left as they are.
"""

from __future__ import annotations

import importlib
import os
from typing import Any, cast

import grpc

__all__ = ["aio_interceptors", "instrument_channel"]


def _instrumentation() -> Any:
    """opentelemetry.instrumentation.grpc (untyped), or None without the extra or when turned off."""
    if os.environ.get("GYM_OTEL_GRPC", "1") == "0":
        return None
    try:
        return importlib.import_module("opentelemetry.instrumentation.grpc")
    except ImportError:
        return None


def instrument_channel(channel: grpc.Channel) -> grpc.Channel:
    """The grpcio channel with OpenTelemetry's client interceptor (the channel itself without the extra)."""
    otel = _instrumentation()
    if otel is None:
        return channel
    grpcext = importlib.import_module("opentelemetry.instrumentation.grpc.grpcext")
    return cast(grpc.Channel, grpcext.intercept_channel(channel, otel.client_interceptor()))


def aio_interceptors() -> list[Any]:
    """OpenTelemetry's grpc.aio client interceptors (none without the extra)."""
    otel = _instrumentation()
    return [] if otel is None else list(otel.aio_client_interceptors())

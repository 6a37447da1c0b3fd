"""Channels to one mesh instance: URL schemes, TLS, the bearer token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence, TypeVar
from urllib.parse import urlsplit

import grpc
import grpc.aio

from ._tracing import aio_interceptors, instrument_channel

__all__ = ["Target", "connect", "connect_async", "parse_url"]

# Output lines with token ids can be large (a long multi-turn rollout: a few
# MB); gRPC's default receive limit is 4 MiB.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
# Reconnect soon after the server comes back (gRPC's default backoff grows to
# two minutes); the client's own Retry paces the calls.
CHANNEL_OPTIONS: tuple[tuple[str, Any], ...] = (
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2000),
)

_PLAINTEXT = {"http": 80, "grpc": None}
_TLS = {"https": 443, "grpcs": None}


@dataclass(frozen=True)
class Target:
    """Where a URL points: ``host:port`` and whether to use TLS."""

    address: str
    tls: bool


def parse_url(url: str) -> Target:
    """``http://host:port`` (as ``gym serve`` prints it), ``grpc://host:port``
    (an instance's grpc-js port) or a bare ``host:port``: plaintext HTTP/2.
    ``https://`` or ``grpcs://``: TLS. Anything else is a ValueError."""
    text = url.strip()
    if "://" not in text:
        text = "grpc://" + text
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in _PLAINTEXT and scheme not in _TLS:
        raise ValueError(f"{url!r}: unknown scheme {parts.scheme!r} (use http://, https://, grpc:// or grpcs://)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{url!r}: a gRPC address has no path or query (the URL of a mesh instance is http://host:port)")
    try:
        host, port = parts.hostname, parts.port
    except ValueError as err:
        raise ValueError(f"{url!r}: {err}") from None
    if not host:
        raise ValueError(f"{url!r}: no host")
    if port is None:
        port = {**_PLAINTEXT, **_TLS}[scheme]
        if port is None:
            raise ValueError(f"{url!r}: no port")
    if ":" in host:  # IPv6
        host = f"[{host}]"
    return Target(f"{host}:{port}", scheme in _TLS)


def _credentials(
    target: Target,
    url: str,
    root_certificates: bytes | None,
    private_key: bytes | None,
    certificate_chain: bytes | None,
) -> grpc.ChannelCredentials | None:
    if not target.tls:
        if root_certificates or private_key or certificate_chain:
            raise ValueError(f"{url!r}: TLS settings given for a plaintext URL (use https://)")
        return None
    if (private_key is None) != (certificate_chain is None):
        raise ValueError("mutual TLS needs both private_key and certificate_chain")
    return grpc.ssl_channel_credentials(root_certificates, private_key, certificate_chain)


def _options(options: Sequence[tuple[str, Any]], tls_server_name: str | None) -> list[tuple[str, Any]]:
    merged = dict(CHANNEL_OPTIONS)
    if tls_server_name:
        merged["grpc.ssl_target_name_override"] = tls_server_name
    merged.update(dict(options))
    return list(merged.items())


def _auth(metadata: Any, token: str) -> list[tuple[str, str | bytes]]:
    return [*(metadata or ()), ("authorization", f"Bearer {token}")]


# ---------------------------------------------------------------------------
# grpcio (threads)


class _Details(grpc.ClientCallDetails):
    def __init__(self, base: grpc.ClientCallDetails, token: str) -> None:
        self.method = base.method
        self.timeout = base.timeout
        self.metadata = tuple(_auth(base.metadata, token))
        self.credentials = base.credentials
        self.wait_for_ready = base.wait_for_ready
        self.compression = base.compression


_C = TypeVar("_C")


class _TokenInterceptor(
    grpc.UnaryUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.UnaryStreamClientInterceptor,  # type: ignore[type-arg]
    grpc.StreamUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.StreamStreamClientInterceptor,  # type: ignore[type-arg]
):
    """Adds ``authorization: Bearer <token>`` to every call."""

    def __init__(self, token: str) -> None:
        self._token = token

    def _go(self, continuation: Callable[[Any, Any], _C], details: grpc.ClientCallDetails, request: Any) -> _C:
        return continuation(_Details(details, self._token), request)

    def intercept_unary_unary(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return self._go(continuation, client_call_details, request)

    def intercept_unary_stream(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return self._go(continuation, client_call_details, request)

    def intercept_stream_unary(self, continuation: Any, client_call_details: Any, request_iterator: Any) -> Any:
        return self._go(continuation, client_call_details, request_iterator)

    def intercept_stream_stream(self, continuation: Any, client_call_details: Any, request_iterator: Any) -> Any:
        return self._go(continuation, client_call_details, request_iterator)


def connect(
    url: str,
    *,
    token: str | None = None,
    root_certificates: bytes | None = None,
    private_key: bytes | None = None,
    certificate_chain: bytes | None = None,
    tls_server_name: str | None = None,
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.Channel:
    """A grpcio channel to one mesh instance, for the generated stubs
    (``agent_pb2_grpc.AgentServiceStub(connect(url))``).

    ``token`` is sent as ``authorization: Bearer <token>`` on every call.
    ``https://`` URLs use TLS: the system's roots, or ``root_certificates``
    (PEM); ``private_key`` and ``certificate_chain`` (PEM) add a client
    certificate (mutual TLS); ``tls_server_name`` checks the server's
    certificate against that name instead of the URL's host. With the
    ``otel`` extra, calls carry the caller's OpenTelemetry trace context."""
    target = parse_url(url)
    creds = _credentials(target, url, root_certificates, private_key, certificate_chain)
    opts = _options(options, tls_server_name)
    if creds is None:
        channel = grpc.insecure_channel(target.address, options=opts)
    else:
        channel = grpc.secure_channel(target.address, creds, options=opts)
    if token:
        channel = grpc.intercept_channel(channel, _TokenInterceptor(token))
    # Outermost: the trace context of the caller (with the otel extra).
    return instrument_channel(channel)


# ---------------------------------------------------------------------------
# grpc.aio (asyncio)


def _aio_details(base: grpc.aio.ClientCallDetails, token: str) -> grpc.aio.ClientCallDetails:
    return grpc.aio.ClientCallDetails(
        base.method, base.timeout, grpc.aio.Metadata(*_auth(base.metadata, token)), base.credentials, base.wait_for_ready
    )


class _AioUnaryUnary(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[type-arg]
    def __init__(self, token: str) -> None:
        self._token = token

    async def intercept_unary_unary(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return await continuation(_aio_details(client_call_details, self._token), request)


class _AioUnaryStream(grpc.aio.UnaryStreamClientInterceptor):  # type: ignore[type-arg]
    def __init__(self, token: str) -> None:
        self._token = token

    async def intercept_unary_stream(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return await continuation(_aio_details(client_call_details, self._token), request)


class _AioStreamUnary(grpc.aio.StreamUnaryClientInterceptor):  # type: ignore[type-arg]
    def __init__(self, token: str) -> None:
        self._token = token

    async def intercept_stream_unary(self, continuation: Any, client_call_details: Any, request_iterator: Any) -> Any:
        return await continuation(_aio_details(client_call_details, self._token), request_iterator)


class _AioStreamStream(grpc.aio.StreamStreamClientInterceptor):  # type: ignore[type-arg]
    def __init__(self, token: str) -> None:
        self._token = token

    async def intercept_stream_stream(self, continuation: Any, client_call_details: Any, request_iterator: Any) -> Any:
        return await continuation(_aio_details(client_call_details, self._token), request_iterator)


def connect_async(
    url: str,
    *,
    token: str | None = None,
    root_certificates: bytes | None = None,
    private_key: bytes | None = None,
    certificate_chain: bytes | None = None,
    tls_server_name: str | None = None,
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.aio.Channel:
    """A grpc.aio channel to one mesh instance (the same settings as :func:`connect`)."""
    target = parse_url(url)
    creds = _credentials(target, url, root_certificates, private_key, certificate_chain)
    opts = _options(options, tls_server_name)
    interceptors: list[Any] = aio_interceptors()
    if token:
        interceptors += [_AioUnaryUnary(token), _AioUnaryStream(token), _AioStreamUnary(token), _AioStreamStream(token)]
    if creds is None:
        return grpc.aio.insecure_channel(target.address, options=opts, interceptors=interceptors or None)
    return grpc.aio.secure_channel(target.address, creds, options=opts, interceptors=interceptors or None)

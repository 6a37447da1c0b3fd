"""Python client for a gym-mesh.

- ``gymmesh.v1``: the generated, typed gRPC stubs (``from gymmesh.v1 import
  agent_pb2, agent_pb2_grpc``).
- :class:`GymClient` and :class:`AsyncGymClient` (asyncio): ``run(row)`` and
  ``collect(rows, repeats=..., max_in_flight=...)`` on the raw path (NeMo Gym
  dataset rows in, NeMo Gym output lines out), with deadlines, retries of
  UNAVAILABLE, resumption of a broken Collect stream without duplicates, a
  bearer token and TLS.
- :mod:`gymmesh.token_data`: a rollout's turns joined into prompt ids,
  completion ids, logprobs and a loss mask, for training.
"""

from pkgutil import extend_path

# An editable install puts src/ and gen/ on sys.path: the generated
# gymmesh.v1 then lives in gen/gymmesh, joined to this package here. (A wheel
# has both in one folder and this finds nothing more.)
__path__ = extend_path(__path__, __name__)

from . import token_data  # noqa: E402
from ._channel import connect, connect_async  # noqa: E402
from ._types import Failure, GymError, Result, Retry, Row, status_code  # noqa: E402
from .aio import AsyncGymClient  # noqa: E402
from .client import GymClient  # noqa: E402

__all__ = [
    "AsyncGymClient",
    "Failure",
    "GymClient",
    "GymError",
    "Result",
    "Retry",
    "Row",
    "connect",
    "connect_async",
    "status_code",
    "token_data",
]

"""gym-mesh client helpers.

The generated stubs live in ``gym.v1`` (``from gym.v1 import agent_pb2,
agent_pb2_grpc``...); this package adds dataset-row conversion and a couple of
gRPC conveniences.
"""

from .client import collect, connect, target_of
from .convert import (
    JsonShapeError,
    item_from_json,
    item_to_json,
    params_from_json,
    params_to_json,
    response_from_json,
    response_to_json,
    struct_to_dict,
    task_from_row,
    task_to_row,
    tasks_from_rows,
    tool_from_json,
    tool_to_json,
)

__all__ = [
    "JsonShapeError",
    "collect",
    "connect",
    "item_from_json",
    "item_to_json",
    "params_from_json",
    "params_to_json",
    "response_from_json",
    "response_to_json",
    "struct_to_dict",
    "target_of",
    "task_from_row",
    "task_to_row",
    "tasks_from_rows",
    "tool_from_json",
    "tool_to_json",
]

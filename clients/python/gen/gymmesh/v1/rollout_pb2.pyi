from google.rpc import status_pb2 as _status_pb2
from gymmesh.v1 import task_pb2 as _task_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CollectRequest(_message.Message):
    __slots__ = ("task_id", "task", "row_json", "num_repeats", "agent", "want_output_lines", "task_index")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    ROW_JSON_FIELD_NUMBER: _ClassVar[int]
    NUM_REPEATS_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    WANT_OUTPUT_LINES_FIELD_NUMBER: _ClassVar[int]
    TASK_INDEX_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    task: _task_pb2.Task
    row_json: str
    num_repeats: int
    agent: str
    want_output_lines: bool
    task_index: int
    def __init__(self, task_id: _Optional[str] = ..., task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ..., row_json: _Optional[str] = ..., num_repeats: _Optional[int] = ..., agent: _Optional[str] = ..., want_output_lines: _Optional[bool] = ..., task_index: _Optional[int] = ...) -> None: ...

class CollectResponse(_message.Message):
    __slots__ = ("task_id", "repeat_index", "agent", "rollout", "error", "output_line_json")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    REPEAT_INDEX_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_LINE_JSON_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    repeat_index: int
    agent: str
    rollout: _task_pb2.Rollout
    error: _status_pb2.Status
    output_line_json: str
    def __init__(self, task_id: _Optional[str] = ..., repeat_index: _Optional[int] = ..., agent: _Optional[str] = ..., rollout: _Optional[_Union[_task_pb2.Rollout, _Mapping]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ..., output_line_json: _Optional[str] = ...) -> None: ...

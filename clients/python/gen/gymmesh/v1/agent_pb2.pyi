from gymmesh.v1 import responses_pb2 as _responses_pb2
from gymmesh.v1 import task_pb2 as _task_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RunRequest(_message.Message):
    __slots__ = ("task", "row_json", "rollout_id", "want_output_line")
    TASK_FIELD_NUMBER: _ClassVar[int]
    ROW_JSON_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_ID_FIELD_NUMBER: _ClassVar[int]
    WANT_OUTPUT_LINE_FIELD_NUMBER: _ClassVar[int]
    task: _task_pb2.Task
    row_json: str
    rollout_id: str
    want_output_line: bool
    def __init__(self, task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ..., row_json: _Optional[str] = ..., rollout_id: _Optional[str] = ..., want_output_line: _Optional[bool] = ...) -> None: ...

class RunResponse(_message.Message):
    __slots__ = ("rollout", "output_line_json")
    ROLLOUT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_LINE_JSON_FIELD_NUMBER: _ClassVar[int]
    rollout: _task_pb2.Rollout
    output_line_json: str
    def __init__(self, rollout: _Optional[_Union[_task_pb2.Rollout, _Mapping]] = ..., output_line_json: _Optional[str] = ...) -> None: ...

class RunStreamRequest(_message.Message):
    __slots__ = ("task", "row_json", "rollout_id")
    TASK_FIELD_NUMBER: _ClassVar[int]
    ROW_JSON_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_ID_FIELD_NUMBER: _ClassVar[int]
    task: _task_pb2.Task
    row_json: str
    rollout_id: str
    def __init__(self, task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ..., row_json: _Optional[str] = ..., rollout_id: _Optional[str] = ...) -> None: ...

class RunStreamResponse(_message.Message):
    __slots__ = ("item", "rollout")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_FIELD_NUMBER: _ClassVar[int]
    item: _responses_pb2.Item
    rollout: _task_pb2.Rollout
    def __init__(self, item: _Optional[_Union[_responses_pb2.Item, _Mapping]] = ..., rollout: _Optional[_Union[_task_pb2.Rollout, _Mapping]] = ...) -> None: ...

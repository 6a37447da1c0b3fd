from gym.v1 import responses_pb2 as _responses_pb2
from gym.v1 import task_pb2 as _task_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RunRequest(_message.Message):
    __slots__ = ("task", "rollout_id")
    TASK_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_ID_FIELD_NUMBER: _ClassVar[int]
    task: _task_pb2.Task
    rollout_id: str
    def __init__(self, task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ..., rollout_id: _Optional[str] = ...) -> None: ...

class RunResponse(_message.Message):
    __slots__ = ("rollout",)
    ROLLOUT_FIELD_NUMBER: _ClassVar[int]
    rollout: _task_pb2.Rollout
    def __init__(self, rollout: _Optional[_Union[_task_pb2.Rollout, _Mapping]] = ...) -> None: ...

class RunStreamRequest(_message.Message):
    __slots__ = ("task", "rollout_id")
    TASK_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_ID_FIELD_NUMBER: _ClassVar[int]
    task: _task_pb2.Task
    rollout_id: str
    def __init__(self, task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ..., rollout_id: _Optional[str] = ...) -> None: ...

class RunStreamResponse(_message.Message):
    __slots__ = ("item", "rollout")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_FIELD_NUMBER: _ClassVar[int]
    item: _responses_pb2.Item
    rollout: _task_pb2.Rollout
    def __init__(self, item: _Optional[_Union[_responses_pb2.Item, _Mapping]] = ..., rollout: _Optional[_Union[_task_pb2.Rollout, _Mapping]] = ...) -> None: ...

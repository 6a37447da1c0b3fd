from gym.v1 import task_pb2 as _task_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CollectRequest(_message.Message):
    __slots__ = ("task_id", "task", "num_repeats", "agent")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    NUM_REPEATS_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    task: _task_pb2.Task
    num_repeats: int
    agent: str
    def __init__(self, task_id: _Optional[str] = ..., task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ..., num_repeats: _Optional[int] = ..., agent: _Optional[str] = ...) -> None: ...

class CollectResponse(_message.Message):
    __slots__ = ("task_id", "repeat_index", "agent", "rollout", "error")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    REPEAT_INDEX_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    repeat_index: int
    agent: str
    rollout: _task_pb2.Rollout
    error: RolloutError
    def __init__(self, task_id: _Optional[str] = ..., repeat_index: _Optional[int] = ..., agent: _Optional[str] = ..., rollout: _Optional[_Union[_task_pb2.Rollout, _Mapping]] = ..., error: _Optional[_Union[RolloutError, _Mapping]] = ...) -> None: ...

class RolloutError(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

from google.protobuf import struct_pb2 as _struct_pb2
from gym.v1 import responses_pb2 as _responses_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Task(_message.Message):
    __slots__ = ("responses_create_params", "extra")
    RESPONSES_CREATE_PARAMS_FIELD_NUMBER: _ClassVar[int]
    EXTRA_FIELD_NUMBER: _ClassVar[int]
    responses_create_params: _responses_pb2.ResponseCreateParams
    extra: _struct_pb2.Struct
    def __init__(self, responses_create_params: _Optional[_Union[_responses_pb2.ResponseCreateParams, _Mapping]] = ..., extra: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class Verdict(_message.Message):
    __slots__ = ("reward", "extra")
    REWARD_FIELD_NUMBER: _ClassVar[int]
    EXTRA_FIELD_NUMBER: _ClassVar[int]
    reward: float
    extra: _struct_pb2.Struct
    def __init__(self, reward: _Optional[float] = ..., extra: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class Timings(_message.Message):
    __slots__ = ("model_ms", "tools_ms", "verify_ms", "total_ms")
    MODEL_MS_FIELD_NUMBER: _ClassVar[int]
    TOOLS_MS_FIELD_NUMBER: _ClassVar[int]
    VERIFY_MS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_MS_FIELD_NUMBER: _ClassVar[int]
    model_ms: float
    tools_ms: float
    verify_ms: float
    total_ms: float
    def __init__(self, model_ms: _Optional[float] = ..., tools_ms: _Optional[float] = ..., verify_ms: _Optional[float] = ..., total_ms: _Optional[float] = ...) -> None: ...

class Rollout(_message.Message):
    __slots__ = ("rollout_id", "task", "response", "verdict", "steps", "timings")
    ROLLOUT_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    rollout_id: str
    task: Task
    response: _responses_pb2.Response
    verdict: Verdict
    steps: int
    timings: Timings
    def __init__(self, rollout_id: _Optional[str] = ..., task: _Optional[_Union[Task, _Mapping]] = ..., response: _Optional[_Union[_responses_pb2.Response, _Mapping]] = ..., verdict: _Optional[_Union[Verdict, _Mapping]] = ..., steps: _Optional[int] = ..., timings: _Optional[_Union[Timings, _Mapping]] = ...) -> None: ...

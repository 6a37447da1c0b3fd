import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from gymmesh.v1 import responses_pb2 as _responses_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Task(_message.Message):
    __slots__ = ("responses_create_params", "extra_json")
    RESPONSES_CREATE_PARAMS_FIELD_NUMBER: _ClassVar[int]
    EXTRA_JSON_FIELD_NUMBER: _ClassVar[int]
    responses_create_params: _responses_pb2.ResponseCreateParams
    extra_json: str
    def __init__(self, responses_create_params: _Optional[_Union[_responses_pb2.ResponseCreateParams, _Mapping]] = ..., extra_json: _Optional[str] = ...) -> None: ...

class Verdict(_message.Message):
    __slots__ = ("reward", "reward_components", "extra_json")
    class RewardComponentsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    REWARD_FIELD_NUMBER: _ClassVar[int]
    REWARD_COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    EXTRA_JSON_FIELD_NUMBER: _ClassVar[int]
    reward: float
    reward_components: _containers.ScalarMap[str, float]
    extra_json: str
    def __init__(self, reward: _Optional[float] = ..., reward_components: _Optional[_Mapping[str, float]] = ..., extra_json: _Optional[str] = ...) -> None: ...

class Timings(_message.Message):
    __slots__ = ("model", "tools", "verify", "total")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TOOLS_FIELD_NUMBER: _ClassVar[int]
    VERIFY_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    model: _duration_pb2.Duration
    tools: _duration_pb2.Duration
    verify: _duration_pb2.Duration
    total: _duration_pb2.Duration
    def __init__(self, model: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., tools: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., verify: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., total: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

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

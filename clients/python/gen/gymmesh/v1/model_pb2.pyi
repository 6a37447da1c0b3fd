from gymmesh.v1 import responses_pb2 as _responses_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateResponseRequest(_message.Message):
    __slots__ = ("params",)
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    params: _responses_pb2.ResponseCreateParams
    def __init__(self, params: _Optional[_Union[_responses_pb2.ResponseCreateParams, _Mapping]] = ...) -> None: ...

class CreateResponseResponse(_message.Message):
    __slots__ = ("response",)
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    response: _responses_pb2.Response
    def __init__(self, response: _Optional[_Union[_responses_pb2.Response, _Mapping]] = ...) -> None: ...

class StreamResponseRequest(_message.Message):
    __slots__ = ("params",)
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    params: _responses_pb2.ResponseCreateParams
    def __init__(self, params: _Optional[_Union[_responses_pb2.ResponseCreateParams, _Mapping]] = ...) -> None: ...

class StreamResponseResponse(_message.Message):
    __slots__ = ("text_delta", "arguments_delta", "output_item_done", "completed", "created", "output_item_added")
    TEXT_DELTA_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_DELTA_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_ITEM_DONE_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_ITEM_ADDED_FIELD_NUMBER: _ClassVar[int]
    text_delta: TextDelta
    arguments_delta: ArgumentsDelta
    output_item_done: OutputItemDone
    completed: _responses_pb2.Response
    created: _responses_pb2.Response
    output_item_added: OutputItemAdded
    def __init__(self, text_delta: _Optional[_Union[TextDelta, _Mapping]] = ..., arguments_delta: _Optional[_Union[ArgumentsDelta, _Mapping]] = ..., output_item_done: _Optional[_Union[OutputItemDone, _Mapping]] = ..., completed: _Optional[_Union[_responses_pb2.Response, _Mapping]] = ..., created: _Optional[_Union[_responses_pb2.Response, _Mapping]] = ..., output_item_added: _Optional[_Union[OutputItemAdded, _Mapping]] = ...) -> None: ...

class OutputItemAdded(_message.Message):
    __slots__ = ("output_index", "item")
    OUTPUT_INDEX_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    output_index: int
    item: _responses_pb2.Item
    def __init__(self, output_index: _Optional[int] = ..., item: _Optional[_Union[_responses_pb2.Item, _Mapping]] = ...) -> None: ...

class TextDelta(_message.Message):
    __slots__ = ("output_index", "delta")
    OUTPUT_INDEX_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    output_index: int
    delta: str
    def __init__(self, output_index: _Optional[int] = ..., delta: _Optional[str] = ...) -> None: ...

class ArgumentsDelta(_message.Message):
    __slots__ = ("output_index", "delta")
    OUTPUT_INDEX_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    output_index: int
    delta: str
    def __init__(self, output_index: _Optional[int] = ..., delta: _Optional[str] = ...) -> None: ...

class OutputItemDone(_message.Message):
    __slots__ = ("output_index", "item")
    OUTPUT_INDEX_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    output_index: int
    item: _responses_pb2.Item
    def __init__(self, output_index: _Optional[int] = ..., item: _Optional[_Union[_responses_pb2.Item, _Mapping]] = ...) -> None: ...

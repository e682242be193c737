from buf.validate import validate_pb2 as _validate_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Api(_message.Message):
    __slots__ = ["http_method", "name"]
    HTTP_METHOD_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    http_method: str
    name: str
    def __init__(self, name: _Optional[str] = ..., http_method: _Optional[str] = ...) -> None: ...

class CallRequest(_message.Message):
    __slots__ = ["method", "open_id", "params", "version"]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    method: str
    open_id: str
    params: _struct_pb2.Value
    version: int
    def __init__(self, open_id: _Optional[str] = ..., method: _Optional[str] = ..., version: _Optional[int] = ..., params: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class CallResponse(_message.Message):
    __slots__ = ["data", "request_id", "result"]
    DATA_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    data: _struct_pb2.Value
    request_id: str
    result: int
    def __init__(self, result: _Optional[int] = ..., data: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class ListApisRequest(_message.Message):
    __slots__ = ["prefix"]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    prefix: str
    def __init__(self, prefix: _Optional[str] = ...) -> None: ...

class ListApisResponse(_message.Message):
    __slots__ = ["apis"]
    APIS_FIELD_NUMBER: _ClassVar[int]
    apis: _containers.RepeatedCompositeFieldContainer[Api]
    def __init__(self, apis: _Optional[_Iterable[_Union[Api, _Mapping]]] = ...) -> None: ...

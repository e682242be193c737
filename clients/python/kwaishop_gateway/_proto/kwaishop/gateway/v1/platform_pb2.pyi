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
    __slots__ = ["description", "file_fields", "http_method", "limits", "name", "request_schema", "response_members", "response_schema"]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELDS_FIELD_NUMBER: _ClassVar[int]
    HTTP_METHOD_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_MEMBERS_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    description: str
    file_fields: _containers.RepeatedScalarFieldContainer[str]
    http_method: str
    limits: ApiLimits
    name: str
    request_schema: _struct_pb2.Struct
    response_members: _containers.RepeatedScalarFieldContainer[str]
    response_schema: _struct_pb2.Struct
    def __init__(self, name: _Optional[str] = ..., http_method: _Optional[str] = ..., description: _Optional[str] = ..., file_fields: _Optional[_Iterable[str]] = ..., response_members: _Optional[_Iterable[str]] = ..., request_schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., response_schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., limits: _Optional[_Union[ApiLimits, _Mapping]] = ...) -> None: ...

class ApiLimits(_message.Message):
    __slots__ = ["app_qps", "max_file_bytes", "shop_qps"]
    APP_QPS_FIELD_NUMBER: _ClassVar[int]
    MAX_FILE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHOP_QPS_FIELD_NUMBER: _ClassVar[int]
    app_qps: int
    max_file_bytes: int
    shop_qps: int
    def __init__(self, app_qps: _Optional[int] = ..., shop_qps: _Optional[int] = ..., max_file_bytes: _Optional[int] = ...) -> None: ...

class CallRequest(_message.Message):
    __slots__ = ["app_key", "files", "method", "open_id", "params", "params_json", "skip_validation", "version"]
    class FilesEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bytes
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...
    APP_KEY_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    SKIP_VALIDATION_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    app_key: str
    files: _containers.ScalarMap[str, bytes]
    method: str
    open_id: str
    params: _struct_pb2.Value
    params_json: str
    skip_validation: bool
    version: int
    def __init__(self, open_id: _Optional[str] = ..., method: _Optional[str] = ..., version: _Optional[int] = ..., params: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., params_json: _Optional[str] = ..., files: _Optional[_Mapping[str, bytes]] = ..., skip_validation: bool = ..., app_key: _Optional[str] = ...) -> None: ...

class CallResponse(_message.Message):
    __slots__ = ["body_json", "data", "members", "request_id", "result"]
    BODY_JSON_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    body_json: str
    data: _struct_pb2.Value
    members: _struct_pb2.Struct
    request_id: str
    result: int
    def __init__(self, result: _Optional[int] = ..., data: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., request_id: _Optional[str] = ..., body_json: _Optional[str] = ..., members: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class GetApiRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetApiResponse(_message.Message):
    __slots__ = ["api"]
    API_FIELD_NUMBER: _ClassVar[int]
    api: Api
    def __init__(self, api: _Optional[_Union[Api, _Mapping]] = ...) -> None: ...

class ListApisRequest(_message.Message):
    __slots__ = ["contains", "http_method", "prefix", "uploads_only"]
    CONTAINS_FIELD_NUMBER: _ClassVar[int]
    HTTP_METHOD_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    UPLOADS_ONLY_FIELD_NUMBER: _ClassVar[int]
    contains: str
    http_method: str
    prefix: str
    uploads_only: bool
    def __init__(self, prefix: _Optional[str] = ..., uploads_only: bool = ..., contains: _Optional[str] = ..., http_method: _Optional[str] = ...) -> None: ...

class ListApisResponse(_message.Message):
    __slots__ = ["apis"]
    APIS_FIELD_NUMBER: _ClassVar[int]
    apis: _containers.RepeatedCompositeFieldContainer[Api]
    def __init__(self, apis: _Optional[_Iterable[_Union[Api, _Mapping]]] = ...) -> None: ...

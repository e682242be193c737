from buf.validate import validate_pb2 as _validate_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.rpc import code_pb2 as _code_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
RECEIVER_FIELD_ADDRESS: ReceiverField
RECEIVER_FIELD_NAME: ReceiverField
RECEIVER_FIELD_PHONE: ReceiverField
RECEIVER_FIELD_UNSPECIFIED: ReceiverField

class DecryptReceiversRequest(_message.Message):
    __slots__ = ["entries", "open_id"]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[ReceiverCiphertext]
    open_id: str
    def __init__(self, open_id: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[ReceiverCiphertext, _Mapping]]] = ...) -> None: ...

class DecryptReceiversResponse(_message.Message):
    __slots__ = ["results"]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ReceiverResult]
    def __init__(self, results: _Optional[_Iterable[_Union[ReceiverResult, _Mapping]]] = ...) -> None: ...

class DesensitiseReceiversRequest(_message.Message):
    __slots__ = ["entries", "open_id"]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[ReceiverCiphertext]
    open_id: str
    def __init__(self, open_id: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[ReceiverCiphertext, _Mapping]]] = ...) -> None: ...

class DesensitiseReceiversResponse(_message.Message):
    __slots__ = ["results"]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ReceiverResult]
    def __init__(self, results: _Optional[_Iterable[_Union[ReceiverResult, _Mapping]]] = ...) -> None: ...

class EntryError(_message.Message):
    __slots__ = ["code", "message"]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: _code_pb2.Code
    message: str
    def __init__(self, code: _Optional[_Union[_code_pb2.Code, str]] = ..., message: _Optional[str] = ...) -> None: ...

class ReceiverCiphertext(_message.Message):
    __slots__ = ["ciphertext", "field", "order_id"]
    CIPHERTEXT_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ciphertext: str
    field: ReceiverField
    order_id: int
    def __init__(self, order_id: _Optional[int] = ..., ciphertext: _Optional[str] = ..., field: _Optional[_Union[ReceiverField, str]] = ...) -> None: ...

class ReceiverResult(_message.Message):
    __slots__ = ["error", "field", "order_id", "value"]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    error: EntryError
    field: ReceiverField
    order_id: int
    value: ReceiverValue
    def __init__(self, order_id: _Optional[int] = ..., field: _Optional[_Union[ReceiverField, str]] = ..., value: _Optional[_Union[ReceiverValue, _Mapping]] = ..., error: _Optional[_Union[EntryError, _Mapping]] = ...) -> None: ...

class ReceiverValue(_message.Message):
    __slots__ = ["address", "name", "phone"]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    address: str
    name: str
    phone: str
    def __init__(self, name: _Optional[str] = ..., phone: _Optional[str] = ..., address: _Optional[str] = ...) -> None: ...

class SearchIndexRequest(_message.Message):
    __slots__ = ["entries", "open_id"]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[SearchInput]
    open_id: str
    def __init__(self, open_id: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[SearchInput, _Mapping]]] = ...) -> None: ...

class SearchIndexResponse(_message.Message):
    __slots__ = ["results"]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[SearchIndexResult]
    def __init__(self, results: _Optional[_Iterable[_Union[SearchIndexResult, _Mapping]]] = ...) -> None: ...

class SearchIndexResult(_message.Message):
    __slots__ = ["error", "field", "search_index"]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    SEARCH_INDEX_FIELD_NUMBER: _ClassVar[int]
    error: EntryError
    field: ReceiverField
    search_index: str
    def __init__(self, field: _Optional[_Union[ReceiverField, str]] = ..., search_index: _Optional[str] = ..., error: _Optional[_Union[EntryError, _Mapping]] = ...) -> None: ...

class SearchInput(_message.Message):
    __slots__ = ["field", "plaintext"]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    PLAINTEXT_FIELD_NUMBER: _ClassVar[int]
    field: ReceiverField
    plaintext: str
    def __init__(self, plaintext: _Optional[str] = ..., field: _Optional[_Union[ReceiverField, str]] = ...) -> None: ...

class ReceiverField(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

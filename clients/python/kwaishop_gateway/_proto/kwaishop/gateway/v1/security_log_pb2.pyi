from buf.validate import validate_pb2 as _validate_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetSecurityLogStatsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class GetSecurityLogStatsResponse(_message.Message):
    __slots__ = ["dropped", "enabled", "failed_retry", "failed_store", "pending", "sent"]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    FAILED_RETRY_FIELD_NUMBER: _ClassVar[int]
    FAILED_STORE_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    SENT_FIELD_NUMBER: _ClassVar[int]
    dropped: int
    enabled: bool
    failed_retry: int
    failed_store: int
    pending: int
    sent: int
    def __init__(self, enabled: bool = ..., sent: _Optional[int] = ..., failed_store: _Optional[int] = ..., failed_retry: _Optional[int] = ..., dropped: _Optional[int] = ..., pending: _Optional[int] = ...) -> None: ...

class ReportExportRequest(_message.Message):
    __slots__ = ["data", "open_id", "operation", "order_ids", "order_total", "time", "url", "user_ip"]
    DATA_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    ORDER_IDS_FIELD_NUMBER: _ClassVar[int]
    ORDER_TOTAL_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    USER_IP_FIELD_NUMBER: _ClassVar[int]
    data: str
    open_id: str
    operation: int
    order_ids: _containers.RepeatedScalarFieldContainer[int]
    order_total: int
    time: _timestamp_pb2.Timestamp
    url: str
    user_ip: str
    def __init__(self, open_id: _Optional[str] = ..., user_ip: _Optional[str] = ..., url: _Optional[str] = ..., operation: _Optional[int] = ..., order_ids: _Optional[_Iterable[int]] = ..., data: _Optional[str] = ..., order_total: _Optional[int] = ..., time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReportExportResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ReportLoginRequest(_message.Message):
    __slots__ = ["login_message", "login_result", "open_id", "time", "user_ip"]
    LOGIN_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    LOGIN_RESULT_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    USER_IP_FIELD_NUMBER: _ClassVar[int]
    login_message: str
    login_result: str
    open_id: str
    time: _timestamp_pb2.Timestamp
    user_ip: str
    def __init__(self, open_id: _Optional[str] = ..., user_ip: _Optional[str] = ..., login_result: _Optional[str] = ..., login_message: _Optional[str] = ..., time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReportLoginResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

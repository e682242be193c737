from buf.validate import validate_pb2 as _validate_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

AUTHORIZATION_EVENT_TYPE_AUTHORIZED: AuthorizationEventType
AUTHORIZATION_EVENT_TYPE_DELETED: AuthorizationEventType
AUTHORIZATION_EVENT_TYPE_EXPIRED: AuthorizationEventType
AUTHORIZATION_EVENT_TYPE_EXPIRING_SOON: AuthorizationEventType
AUTHORIZATION_EVENT_TYPE_REFRESHED: AuthorizationEventType
AUTHORIZATION_EVENT_TYPE_REFRESH_FAILED: AuthorizationEventType
AUTHORIZATION_EVENT_TYPE_REVOKED: AuthorizationEventType
AUTHORIZATION_EVENT_TYPE_SUBSCRIPTION_EXPIRED: AuthorizationEventType
AUTHORIZATION_EVENT_TYPE_TEST_USER_CUTOFF_SOON: AuthorizationEventType
AUTHORIZATION_EVENT_TYPE_UNSPECIFIED: AuthorizationEventType
AUTHORIZATION_SOURCE_CONSOLE: AuthorizationSource
AUTHORIZATION_SOURCE_OAUTH_FLOW: AuthorizationSource
AUTHORIZATION_SOURCE_SERVICE_MARKET: AuthorizationSource
AUTHORIZATION_SOURCE_UNSPECIFIED: AuthorizationSource
AUTHORIZATION_STATUS_ACTIVE: AuthorizationStatus
AUTHORIZATION_STATUS_EXPIRED: AuthorizationStatus
AUTHORIZATION_STATUS_REFRESH_FAILED: AuthorizationStatus
AUTHORIZATION_STATUS_REVOKED: AuthorizationStatus
AUTHORIZATION_STATUS_SUBSCRIPTION_EXPIRED: AuthorizationStatus
AUTHORIZATION_STATUS_UNSPECIFIED: AuthorizationStatus
DESCRIPTOR: _descriptor.FileDescriptor

class Authorization(_message.Message):
    __slots__ = ["access_token_expire_time", "app_key", "create_time", "last_refresh_time", "main_open_id", "open_id", "refresh_token_expire_time", "scopes", "seller_id", "source", "status", "test_user", "test_user_cutoff_time"]
    ACCESS_TOKEN_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    APP_KEY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_REFRESH_TIME_FIELD_NUMBER: _ClassVar[int]
    MAIN_OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    REFRESH_TOKEN_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TEST_USER_CUTOFF_TIME_FIELD_NUMBER: _ClassVar[int]
    TEST_USER_FIELD_NUMBER: _ClassVar[int]
    access_token_expire_time: _timestamp_pb2.Timestamp
    app_key: str
    create_time: _timestamp_pb2.Timestamp
    last_refresh_time: _timestamp_pb2.Timestamp
    main_open_id: str
    open_id: str
    refresh_token_expire_time: _timestamp_pb2.Timestamp
    scopes: _containers.RepeatedScalarFieldContainer[str]
    seller_id: int
    source: AuthorizationSource
    status: AuthorizationStatus
    test_user: bool
    test_user_cutoff_time: _timestamp_pb2.Timestamp
    def __init__(self, open_id: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., status: _Optional[_Union[AuthorizationStatus, str]] = ..., access_token_expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., refresh_token_expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., last_refresh_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., test_user: bool = ..., test_user_cutoff_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[_Union[AuthorizationSource, str]] = ..., app_key: _Optional[str] = ..., main_open_id: _Optional[str] = ..., seller_id: _Optional[int] = ...) -> None: ...

class AuthorizationEvent(_message.Message):
    __slots__ = ["authorization", "message", "open_id", "time", "type"]
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    authorization: Authorization
    message: str
    open_id: str
    time: _timestamp_pb2.Timestamp
    type: AuthorizationEventType
    def __init__(self, type: _Optional[_Union[AuthorizationEventType, str]] = ..., open_id: _Optional[str] = ..., time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., authorization: _Optional[_Union[Authorization, _Mapping]] = ..., message: _Optional[str] = ...) -> None: ...

class CompleteAuthorizationRequest(_message.Message):
    __slots__ = ["app_key", "code", "state"]
    APP_KEY_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    app_key: str
    code: str
    state: str
    def __init__(self, code: _Optional[str] = ..., state: _Optional[str] = ..., app_key: _Optional[str] = ...) -> None: ...

class CompleteAuthorizationResponse(_message.Message):
    __slots__ = ["authorization"]
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    authorization: Authorization
    def __init__(self, authorization: _Optional[_Union[Authorization, _Mapping]] = ...) -> None: ...

class DeleteAuthorizationRequest(_message.Message):
    __slots__ = ["open_id"]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    open_id: str
    def __init__(self, open_id: _Optional[str] = ...) -> None: ...

class DeleteAuthorizationResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class GetAuthorizationRequest(_message.Message):
    __slots__ = ["open_id"]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    open_id: str
    def __init__(self, open_id: _Optional[str] = ...) -> None: ...

class GetAuthorizationResponse(_message.Message):
    __slots__ = ["authorization"]
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    authorization: Authorization
    def __init__(self, authorization: _Optional[_Union[Authorization, _Mapping]] = ...) -> None: ...

class ListAuthorizationsRequest(_message.Message):
    __slots__ = ["app_key", "page_size", "page_token", "status"]
    APP_KEY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    app_key: str
    page_size: int
    page_token: str
    status: AuthorizationStatus
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., status: _Optional[_Union[AuthorizationStatus, str]] = ..., app_key: _Optional[str] = ...) -> None: ...

class ListAuthorizationsResponse(_message.Message):
    __slots__ = ["authorizations", "next_page_token"]
    AUTHORIZATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    authorizations: _containers.RepeatedCompositeFieldContainer[Authorization]
    next_page_token: str
    def __init__(self, authorizations: _Optional[_Iterable[_Union[Authorization, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RefreshAuthorizationRequest(_message.Message):
    __slots__ = ["open_id"]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    open_id: str
    def __init__(self, open_id: _Optional[str] = ...) -> None: ...

class RefreshAuthorizationResponse(_message.Message):
    __slots__ = ["authorization"]
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    authorization: Authorization
    def __init__(self, authorization: _Optional[_Union[Authorization, _Mapping]] = ...) -> None: ...

class RotateTokenKeysRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class RotateTokenKeysResponse(_message.Message):
    __slots__ = ["key_id", "reencrypted"]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    REENCRYPTED_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    reencrypted: int
    def __init__(self, reencrypted: _Optional[int] = ..., key_id: _Optional[str] = ...) -> None: ...

class StartAuthorizationRequest(_message.Message):
    __slots__ = ["app_key", "return_url", "scopes"]
    APP_KEY_FIELD_NUMBER: _ClassVar[int]
    RETURN_URL_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    app_key: str
    return_url: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, scopes: _Optional[_Iterable[str]] = ..., return_url: _Optional[str] = ..., app_key: _Optional[str] = ...) -> None: ...

class StartAuthorizationResponse(_message.Message):
    __slots__ = ["expire_time", "state", "url"]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    expire_time: _timestamp_pb2.Timestamp
    state: str
    url: str
    def __init__(self, url: _Optional[str] = ..., state: _Optional[str] = ..., expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WatchAuthorizationEventsRequest(_message.Message):
    __slots__ = ["open_id"]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    open_id: str
    def __init__(self, open_id: _Optional[str] = ...) -> None: ...

class WatchAuthorizationEventsResponse(_message.Message):
    __slots__ = ["event"]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: AuthorizationEvent
    def __init__(self, event: _Optional[_Union[AuthorizationEvent, _Mapping]] = ...) -> None: ...

class AuthorizationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class AuthorizationSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class AuthorizationEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

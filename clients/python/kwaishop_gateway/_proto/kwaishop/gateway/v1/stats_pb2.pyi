from buf.validate import validate_pb2 as _validate_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
QUOTA_KIND_API_QPS: QuotaKind
QUOTA_KIND_APP_DAILY: QuotaKind
QUOTA_KIND_TEST_USER_DAILY: QuotaKind
QUOTA_KIND_UNSPECIFIED: QuotaKind

class ApiQps(_message.Message):
    __slots__ = ["app_key", "limit_qps", "method", "peak_qps", "peak_time", "ratio"]
    APP_KEY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_QPS_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PEAK_QPS_FIELD_NUMBER: _ClassVar[int]
    PEAK_TIME_FIELD_NUMBER: _ClassVar[int]
    RATIO_FIELD_NUMBER: _ClassVar[int]
    app_key: str
    limit_qps: int
    method: str
    peak_qps: int
    peak_time: _timestamp_pb2.Timestamp
    ratio: float
    def __init__(self, method: _Optional[str] = ..., peak_qps: _Optional[int] = ..., limit_qps: _Optional[int] = ..., ratio: _Optional[float] = ..., peak_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., app_key: _Optional[str] = ...) -> None: ...

class ApiStats(_message.Message):
    __slots__ = ["calls", "errors_by_class", "errors_by_result", "failures", "latency_max_ms", "latency_mean_ms", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "method", "success_rate", "successes", "timeline"]
    CALLS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_BY_CLASS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_BY_RESULT_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MAX_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MEAN_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P50_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P95_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P99_MS_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    SUCCESSES_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_RATE_FIELD_NUMBER: _ClassVar[int]
    TIMELINE_FIELD_NUMBER: _ClassVar[int]
    calls: int
    errors_by_class: _containers.RepeatedCompositeFieldContainer[ErrorClassCount]
    errors_by_result: _containers.RepeatedCompositeFieldContainer[ResultCodeCount]
    failures: int
    latency_max_ms: float
    latency_mean_ms: float
    latency_p50_ms: float
    latency_p95_ms: float
    latency_p99_ms: float
    method: str
    success_rate: float
    successes: int
    timeline: _containers.RepeatedCompositeFieldContainer[TimelinePoint]
    def __init__(self, method: _Optional[str] = ..., calls: _Optional[int] = ..., successes: _Optional[int] = ..., failures: _Optional[int] = ..., success_rate: _Optional[float] = ..., latency_p50_ms: _Optional[float] = ..., latency_p95_ms: _Optional[float] = ..., latency_p99_ms: _Optional[float] = ..., latency_mean_ms: _Optional[float] = ..., latency_max_ms: _Optional[float] = ..., errors_by_class: _Optional[_Iterable[_Union[ErrorClassCount, _Mapping]]] = ..., errors_by_result: _Optional[_Iterable[_Union[ResultCodeCount, _Mapping]]] = ..., timeline: _Optional[_Iterable[_Union[TimelinePoint, _Mapping]]] = ...) -> None: ...

class AppApiStats(_message.Message):
    __slots__ = ["app_key", "total"]
    APP_KEY_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    app_key: str
    total: ApiStats
    def __init__(self, app_key: _Optional[str] = ..., total: _Optional[_Union[ApiStats, _Mapping]] = ...) -> None: ...

class AppMessageCounts(_message.Message):
    __slots__ = ["app_key", "total"]
    APP_KEY_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    app_key: str
    total: MessageCounts
    def __init__(self, app_key: _Optional[str] = ..., total: _Optional[_Union[MessageCounts, _Mapping]] = ...) -> None: ...

class AppQuota(_message.Message):
    __slots__ = ["app_key", "daily", "test_user_daily_limit"]
    APP_KEY_FIELD_NUMBER: _ClassVar[int]
    DAILY_FIELD_NUMBER: _ClassVar[int]
    TEST_USER_DAILY_LIMIT_FIELD_NUMBER: _ClassVar[int]
    app_key: str
    daily: QuotaUse
    test_user_daily_limit: int
    def __init__(self, app_key: _Optional[str] = ..., daily: _Optional[_Union[QuotaUse, _Mapping]] = ..., test_user_daily_limit: _Optional[int] = ...) -> None: ...

class ConsumerLag(_message.Message):
    __slots__ = ["consumer", "observe_time", "pending"]
    CONSUMER_FIELD_NUMBER: _ClassVar[int]
    OBSERVE_TIME_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    consumer: str
    observe_time: _timestamp_pb2.Timestamp
    pending: int
    def __init__(self, consumer: _Optional[str] = ..., pending: _Optional[int] = ..., observe_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ErrorClassCount(_message.Message):
    __slots__ = ["count"]
    CLASS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    count: int
    def __init__(self, count: _Optional[int] = ..., **kwargs) -> None: ...

class GetApiStatsRequest(_message.Message):
    __slots__ = ["app_key", "open_id", "window"]
    APP_KEY_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    app_key: str
    open_id: str
    window: str
    def __init__(self, window: _Optional[str] = ..., open_id: _Optional[str] = ..., app_key: _Optional[str] = ...) -> None: ...

class GetApiStatsResponse(_message.Message):
    __slots__ = ["apis", "app_key", "apps", "end_time", "open_id", "replicas", "start_time", "step_seconds", "total", "window"]
    APIS_FIELD_NUMBER: _ClassVar[int]
    APPS_FIELD_NUMBER: _ClassVar[int]
    APP_KEY_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    REPLICAS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    STEP_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    apis: _containers.RepeatedCompositeFieldContainer[ApiStats]
    app_key: str
    apps: _containers.RepeatedCompositeFieldContainer[AppApiStats]
    end_time: _timestamp_pb2.Timestamp
    open_id: str
    replicas: _containers.RepeatedScalarFieldContainer[str]
    start_time: _timestamp_pb2.Timestamp
    step_seconds: int
    total: ApiStats
    window: str
    def __init__(self, window: _Optional[str] = ..., start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., step_seconds: _Optional[int] = ..., open_id: _Optional[str] = ..., total: _Optional[_Union[ApiStats, _Mapping]] = ..., apis: _Optional[_Iterable[_Union[ApiStats, _Mapping]]] = ..., replicas: _Optional[_Iterable[str]] = ..., app_key: _Optional[str] = ..., apps: _Optional[_Iterable[_Union[AppApiStats, _Mapping]]] = ...) -> None: ...

class GetMessageStatsRequest(_message.Message):
    __slots__ = ["app_key", "window"]
    APP_KEY_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    app_key: str
    window: str
    def __init__(self, window: _Optional[str] = ..., app_key: _Optional[str] = ...) -> None: ...

class GetMessageStatsResponse(_message.Message):
    __slots__ = ["app_key", "apps", "consumers", "end_time", "start_time", "step_seconds", "timeline", "total", "window"]
    APPS_FIELD_NUMBER: _ClassVar[int]
    APP_KEY_FIELD_NUMBER: _ClassVar[int]
    CONSUMERS_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    STEP_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TIMELINE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    app_key: str
    apps: _containers.RepeatedCompositeFieldContainer[AppMessageCounts]
    consumers: _containers.RepeatedCompositeFieldContainer[ConsumerLag]
    end_time: _timestamp_pb2.Timestamp
    start_time: _timestamp_pb2.Timestamp
    step_seconds: int
    timeline: _containers.RepeatedCompositeFieldContainer[MessageTimelinePoint]
    total: MessageCounts
    window: str
    def __init__(self, window: _Optional[str] = ..., start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., step_seconds: _Optional[int] = ..., total: _Optional[_Union[MessageCounts, _Mapping]] = ..., timeline: _Optional[_Iterable[_Union[MessageTimelinePoint, _Mapping]]] = ..., consumers: _Optional[_Iterable[_Union[ConsumerLag, _Mapping]]] = ..., app_key: _Optional[str] = ..., apps: _Optional[_Iterable[_Union[AppMessageCounts, _Mapping]]] = ...) -> None: ...

class GetQuotaRequest(_message.Message):
    __slots__ = ["app_key"]
    APP_KEY_FIELD_NUMBER: _ClassVar[int]
    app_key: str
    def __init__(self, app_key: _Optional[str] = ...) -> None: ...

class GetQuotaResponse(_message.Message):
    __slots__ = ["apis", "app_daily", "app_key", "apps", "day_start_time", "qps_since_time", "test_users", "warn_ratio", "warnings"]
    APIS_FIELD_NUMBER: _ClassVar[int]
    APPS_FIELD_NUMBER: _ClassVar[int]
    APP_DAILY_FIELD_NUMBER: _ClassVar[int]
    APP_KEY_FIELD_NUMBER: _ClassVar[int]
    DAY_START_TIME_FIELD_NUMBER: _ClassVar[int]
    QPS_SINCE_TIME_FIELD_NUMBER: _ClassVar[int]
    TEST_USERS_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    WARN_RATIO_FIELD_NUMBER: _ClassVar[int]
    apis: _containers.RepeatedCompositeFieldContainer[ApiQps]
    app_daily: QuotaUse
    app_key: str
    apps: _containers.RepeatedCompositeFieldContainer[AppQuota]
    day_start_time: _timestamp_pb2.Timestamp
    qps_since_time: _timestamp_pb2.Timestamp
    test_users: _containers.RepeatedCompositeFieldContainer[TestUserQuota]
    warn_ratio: float
    warnings: _containers.RepeatedCompositeFieldContainer[QuotaWarning]
    def __init__(self, day_start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., app_daily: _Optional[_Union[QuotaUse, _Mapping]] = ..., test_users: _Optional[_Iterable[_Union[TestUserQuota, _Mapping]]] = ..., apis: _Optional[_Iterable[_Union[ApiQps, _Mapping]]] = ..., warnings: _Optional[_Iterable[_Union[QuotaWarning, _Mapping]]] = ..., warn_ratio: _Optional[float] = ..., qps_since_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., apps: _Optional[_Iterable[_Union[AppQuota, _Mapping]]] = ..., app_key: _Optional[str] = ...) -> None: ...

class MessageCounts(_message.Message):
    __slots__ = ["dead_lettered", "delivered", "duplicated", "received"]
    DEAD_LETTERED_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATED_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_FIELD_NUMBER: _ClassVar[int]
    dead_lettered: int
    delivered: int
    duplicated: int
    received: int
    def __init__(self, received: _Optional[int] = ..., duplicated: _Optional[int] = ..., delivered: _Optional[int] = ..., dead_lettered: _Optional[int] = ...) -> None: ...

class MessageTimelinePoint(_message.Message):
    __slots__ = ["counts", "start_time"]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    counts: MessageCounts
    start_time: _timestamp_pb2.Timestamp
    def __init__(self, start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., counts: _Optional[_Union[MessageCounts, _Mapping]] = ...) -> None: ...

class QuotaUse(_message.Message):
    __slots__ = ["limit", "ratio", "used"]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    RATIO_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    limit: int
    ratio: float
    used: int
    def __init__(self, used: _Optional[int] = ..., limit: _Optional[int] = ..., ratio: _Optional[float] = ...) -> None: ...

class QuotaWarning(_message.Message):
    __slots__ = ["app_key", "create_time", "kind", "limit", "ratio", "replica", "subject", "used"]
    APP_KEY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    RATIO_FIELD_NUMBER: _ClassVar[int]
    REPLICA_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    app_key: str
    create_time: _timestamp_pb2.Timestamp
    kind: QuotaKind
    limit: int
    ratio: float
    replica: str
    subject: str
    used: int
    def __init__(self, kind: _Optional[_Union[QuotaKind, str]] = ..., subject: _Optional[str] = ..., used: _Optional[int] = ..., limit: _Optional[int] = ..., ratio: _Optional[float] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., replica: _Optional[str] = ..., app_key: _Optional[str] = ...) -> None: ...

class ResultCodeCount(_message.Message):
    __slots__ = ["count", "result"]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    count: int
    result: int
    def __init__(self, result: _Optional[int] = ..., count: _Optional[int] = ...) -> None: ...

class TestUserQuota(_message.Message):
    __slots__ = ["app_key", "daily", "open_id", "sub_open_ids"]
    APP_KEY_FIELD_NUMBER: _ClassVar[int]
    DAILY_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    SUB_OPEN_IDS_FIELD_NUMBER: _ClassVar[int]
    app_key: str
    daily: QuotaUse
    open_id: str
    sub_open_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, open_id: _Optional[str] = ..., daily: _Optional[_Union[QuotaUse, _Mapping]] = ..., app_key: _Optional[str] = ..., sub_open_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class TimelinePoint(_message.Message):
    __slots__ = ["calls", "failures", "start_time"]
    CALLS_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    calls: int
    failures: int
    start_time: _timestamp_pb2.Timestamp
    def __init__(self, start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., calls: _Optional[int] = ..., failures: _Optional[int] = ...) -> None: ...

class QuotaKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

from buf.validate import validate_pb2 as _validate_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
REFUND_HANDLING_WAY_EXCHANGE: RefundHandlingWay
REFUND_HANDLING_WAY_REFUND_ONLY: RefundHandlingWay
REFUND_HANDLING_WAY_RETURN_AND_REFUND: RefundHandlingWay
REFUND_HANDLING_WAY_UNSPECIFIED: RefundHandlingWay
REFUND_NEGOTIATE_STATUS_AGREED: RefundNegotiateStatus
REFUND_NEGOTIATE_STATUS_PENDING: RefundNegotiateStatus
REFUND_NEGOTIATE_STATUS_REJECTED: RefundNegotiateStatus
REFUND_NEGOTIATE_STATUS_UNSPECIFIED: RefundNegotiateStatus
REFUND_STATUS_ARBITRATING_REFUND: RefundStatus
REFUND_STATUS_ARBITRATING_RETURN: RefundStatus
REFUND_STATUS_ARBITRATION_RETURN_CONFIRMED: RefundStatus
REFUND_STATUS_AWAITING_RETURN: RefundStatus
REFUND_STATUS_CLOSED: RefundStatus
REFUND_STATUS_EXCHANGE_SHIPPED: RefundStatus
REFUND_STATUS_REFUNDING: RefundStatus
REFUND_STATUS_REFUND_REQUESTED: RefundStatus
REFUND_STATUS_RETURN_REQUESTED: RefundStatus
REFUND_STATUS_RETURN_SHIPPED: RefundStatus
REFUND_STATUS_SUCCEEDED: RefundStatus
REFUND_STATUS_UNSPECIFIED: RefundStatus
REFUND_TIME_FIELD_CREATE_TIME: RefundTimeField
REFUND_TIME_FIELD_UNSPECIFIED: RefundTimeField
REFUND_TIME_FIELD_UPDATE_TIME: RefundTimeField
RETURN_FREIGHT_DECISION_AGREE: ReturnFreightDecision
RETURN_FREIGHT_DECISION_REJECT: ReturnFreightDecision
RETURN_FREIGHT_DECISION_UNSPECIFIED: ReturnFreightDecision

class ApproveRefundRequest(_message.Message):
    __slots__ = ["description", "expected_status", "open_id", "refund_amount_fen", "refund_id", "request_id"]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_STATUS_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    description: str
    expected_status: RefundStatus
    open_id: str
    refund_amount_fen: int
    refund_id: int
    request_id: str
    def __init__(self, open_id: _Optional[str] = ..., refund_id: _Optional[int] = ..., refund_amount_fen: _Optional[int] = ..., description: _Optional[str] = ..., expected_status: _Optional[_Union[RefundStatus, str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class ApproveRefundResponse(_message.Message):
    __slots__ = ["platform_request_id", "refund_id"]
    PLATFORM_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    platform_request_id: str
    refund_id: int
    def __init__(self, refund_id: _Optional[int] = ..., platform_request_id: _Optional[str] = ...) -> None: ...

class ApproveReturnRequest(_message.Message):
    __slots__ = ["address_id", "open_id", "refund_amount_fen", "refund_id", "request_id"]
    ADDRESS_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    address_id: int
    open_id: str
    refund_amount_fen: int
    refund_id: int
    request_id: str
    def __init__(self, open_id: _Optional[str] = ..., refund_id: _Optional[int] = ..., refund_amount_fen: _Optional[int] = ..., address_id: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class ApproveReturnResponse(_message.Message):
    __slots__ = ["platform_request_id", "refund_id"]
    PLATFORM_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    platform_request_id: str
    refund_id: int
    def __init__(self, refund_id: _Optional[int] = ..., platform_request_id: _Optional[str] = ...) -> None: ...

class ConfirmReturnReceiptRequest(_message.Message):
    __slots__ = ["expected_status", "open_id", "refund_id", "request_id", "return_freight_amount_fen", "return_freight_decision", "return_freight_reject_description", "return_freight_reject_image_urls"]
    EXPECTED_STATUS_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RETURN_FREIGHT_AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    RETURN_FREIGHT_DECISION_FIELD_NUMBER: _ClassVar[int]
    RETURN_FREIGHT_REJECT_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    RETURN_FREIGHT_REJECT_IMAGE_URLS_FIELD_NUMBER: _ClassVar[int]
    expected_status: RefundStatus
    open_id: str
    refund_id: int
    request_id: str
    return_freight_amount_fen: int
    return_freight_decision: ReturnFreightDecision
    return_freight_reject_description: str
    return_freight_reject_image_urls: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, open_id: _Optional[str] = ..., refund_id: _Optional[int] = ..., expected_status: _Optional[_Union[RefundStatus, str]] = ..., return_freight_decision: _Optional[_Union[ReturnFreightDecision, str]] = ..., return_freight_amount_fen: _Optional[int] = ..., return_freight_reject_description: _Optional[str] = ..., return_freight_reject_image_urls: _Optional[_Iterable[str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class ConfirmReturnReceiptResponse(_message.Message):
    __slots__ = ["platform_request_id", "refund_id"]
    PLATFORM_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    platform_request_id: str
    refund_id: int
    def __init__(self, refund_id: _Optional[int] = ..., platform_request_id: _Optional[str] = ...) -> None: ...

class GetRefundRequest(_message.Message):
    __slots__ = ["open_id", "refund_id"]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    open_id: str
    refund_id: int
    def __init__(self, open_id: _Optional[str] = ..., refund_id: _Optional[int] = ...) -> None: ...

class GetRefundResponse(_message.Message):
    __slots__ = ["refund"]
    REFUND_FIELD_NUMBER: _ClassVar[int]
    refund: Refund
    def __init__(self, refund: _Optional[_Union[Refund, _Mapping]] = ...) -> None: ...

class ListRefundRejectReasonsRequest(_message.Message):
    __slots__ = ["open_id", "refund_id"]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    open_id: str
    refund_id: int
    def __init__(self, open_id: _Optional[str] = ..., refund_id: _Optional[int] = ...) -> None: ...

class ListRefundRejectReasonsResponse(_message.Message):
    __slots__ = ["raw", "reasons"]
    RAW_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    raw: str
    reasons: _containers.RepeatedCompositeFieldContainer[RefundRejectReason]
    def __init__(self, reasons: _Optional[_Iterable[_Union[RefundRejectReason, _Mapping]]] = ..., raw: _Optional[str] = ...) -> None: ...

class ListRefundsRequest(_message.Message):
    __slots__ = ["end_time", "open_id", "page_size", "page_token", "pending_only", "start_time", "status", "time_field"]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PENDING_ONLY_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_FIELD_NUMBER: _ClassVar[int]
    end_time: _timestamp_pb2.Timestamp
    open_id: str
    page_size: int
    page_token: str
    pending_only: bool
    start_time: _timestamp_pb2.Timestamp
    status: RefundStatus
    time_field: RefundTimeField
    def __init__(self, open_id: _Optional[str] = ..., start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., time_field: _Optional[_Union[RefundTimeField, str]] = ..., status: _Optional[_Union[RefundStatus, str]] = ..., pending_only: bool = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRefundsResponse(_message.Message):
    __slots__ = ["next_page_token", "refunds"]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REFUNDS_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    refunds: _containers.RepeatedCompositeFieldContainer[Refund]
    def __init__(self, refunds: _Optional[_Iterable[_Union[Refund, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Refund(_message.Message):
    __slots__ = ["buyer_open_id", "create_time", "description", "end_time", "expire_time", "handling_way", "item_id", "negotiate_status", "order_id", "quantity", "raw", "reason", "reason_code", "refund_fen", "refund_id", "return_logistics", "sku_id", "sku_nick", "status", "update_time", "version"]
    BUYER_OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    HANDLING_WAY_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATE_STATUS_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    RAW_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REFUND_FEN_FIELD_NUMBER: _ClassVar[int]
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    RETURN_LOGISTICS_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_NICK_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    buyer_open_id: str
    create_time: _timestamp_pb2.Timestamp
    description: str
    end_time: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    handling_way: RefundHandlingWay
    item_id: int
    negotiate_status: RefundNegotiateStatus
    order_id: int
    quantity: int
    raw: str
    reason: str
    reason_code: int
    refund_fen: int
    refund_id: int
    return_logistics: ReturnLogistics
    sku_id: int
    sku_nick: str
    status: RefundStatus
    update_time: _timestamp_pb2.Timestamp
    version: int
    def __init__(self, refund_id: _Optional[int] = ..., order_id: _Optional[int] = ..., status: _Optional[_Union[RefundStatus, str]] = ..., handling_way: _Optional[_Union[RefundHandlingWay, str]] = ..., negotiate_status: _Optional[_Union[RefundNegotiateStatus, str]] = ..., refund_fen: _Optional[int] = ..., item_id: _Optional[int] = ..., sku_id: _Optional[int] = ..., sku_nick: _Optional[str] = ..., quantity: _Optional[int] = ..., buyer_open_id: _Optional[str] = ..., reason_code: _Optional[int] = ..., reason: _Optional[str] = ..., description: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ..., return_logistics: _Optional[_Union[ReturnLogistics, _Mapping]] = ..., raw: _Optional[str] = ...) -> None: ...

class RefundRejectReason(_message.Message):
    __slots__ = ["code", "description", "requires_description", "requires_image", "tip"]
    CODE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REQUIRES_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REQUIRES_IMAGE_FIELD_NUMBER: _ClassVar[int]
    TIP_FIELD_NUMBER: _ClassVar[int]
    code: int
    description: str
    requires_description: bool
    requires_image: bool
    tip: str
    def __init__(self, code: _Optional[int] = ..., description: _Optional[str] = ..., requires_description: bool = ..., requires_image: bool = ..., tip: _Optional[str] = ...) -> None: ...

class RejectRefundRequest(_message.Message):
    __slots__ = ["description", "image_urls", "open_id", "reason_code", "refund_id", "refund_version", "request_id"]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    IMAGE_URLS_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_VERSION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    description: str
    image_urls: _containers.RepeatedScalarFieldContainer[str]
    open_id: str
    reason_code: int
    refund_id: int
    refund_version: int
    request_id: str
    def __init__(self, open_id: _Optional[str] = ..., refund_id: _Optional[int] = ..., reason_code: _Optional[int] = ..., refund_version: _Optional[int] = ..., description: _Optional[str] = ..., image_urls: _Optional[_Iterable[str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class RejectRefundResponse(_message.Message):
    __slots__ = ["platform_request_id", "refund_id"]
    PLATFORM_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    platform_request_id: str
    refund_id: int
    def __init__(self, refund_id: _Optional[int] = ..., platform_request_id: _Optional[str] = ...) -> None: ...

class ReturnLogistics(_message.Message):
    __slots__ = ["express_code", "express_no"]
    EXPRESS_CODE_FIELD_NUMBER: _ClassVar[int]
    EXPRESS_NO_FIELD_NUMBER: _ClassVar[int]
    express_code: int
    express_no: str
    def __init__(self, express_code: _Optional[int] = ..., express_no: _Optional[str] = ...) -> None: ...

class RefundStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class RefundHandlingWay(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class RefundNegotiateStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class RefundTimeField(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ReturnFreightDecision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

from buf.validate import validate_pb2 as _validate_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from kwaishop.gateway.v1 import refund_pb2 as _refund_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
ORDER_STATUS_CLOSED: OrderStatus
ORDER_STATUS_PAID: OrderStatus
ORDER_STATUS_RECEIVED: OrderStatus
ORDER_STATUS_SHIPPED: OrderStatus
ORDER_STATUS_SUCCEEDED: OrderStatus
ORDER_STATUS_UNPAID: OrderStatus
ORDER_STATUS_UNSPECIFIED: OrderStatus
ORDER_TIME_FIELD_CREATE_TIME: OrderTimeField
ORDER_TIME_FIELD_UNSPECIFIED: OrderTimeField
ORDER_TIME_FIELD_UPDATE_TIME: OrderTimeField

class AddOrderNoteRequest(_message.Message):
    __slots__ = ["flag", "note", "open_id", "order_id", "request_id", "staff_id"]
    FLAG_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    flag: int
    note: str
    open_id: str
    order_id: int
    request_id: str
    staff_id: int
    def __init__(self, open_id: _Optional[str] = ..., order_id: _Optional[int] = ..., note: _Optional[str] = ..., flag: _Optional[int] = ..., staff_id: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class AddOrderNoteResponse(_message.Message):
    __slots__ = ["order_id", "platform_request_id"]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: int
    platform_request_id: str
    def __init__(self, order_id: _Optional[int] = ..., platform_request_id: _Optional[str] = ...) -> None: ...

class CloseOrderRequest(_message.Message):
    __slots__ = ["open_id", "order_id", "request_id"]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    open_id: str
    order_id: int
    request_id: str
    def __init__(self, open_id: _Optional[str] = ..., order_id: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class CloseOrderResponse(_message.Message):
    __slots__ = ["order_id", "platform_request_id"]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: int
    platform_request_id: str
    def __init__(self, order_id: _Optional[int] = ..., platform_request_id: _Optional[str] = ...) -> None: ...

class GetOrderRequest(_message.Message):
    __slots__ = ["open_id", "order_id"]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    open_id: str
    order_id: int
    def __init__(self, open_id: _Optional[str] = ..., order_id: _Optional[int] = ...) -> None: ...

class GetOrderResponse(_message.Message):
    __slots__ = ["order"]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class ListOrdersRequest(_message.Message):
    __slots__ = ["end_time", "open_id", "page_size", "page_token", "start_time", "status", "time_field"]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_FIELD_NUMBER: _ClassVar[int]
    end_time: _timestamp_pb2.Timestamp
    open_id: str
    page_size: int
    page_token: str
    start_time: _timestamp_pb2.Timestamp
    status: OrderStatus
    time_field: OrderTimeField
    def __init__(self, open_id: _Optional[str] = ..., start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., time_field: _Optional[_Union[OrderTimeField, str]] = ..., status: _Optional[_Union[OrderStatus, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListOrdersResponse(_message.Message):
    __slots__ = ["next_page_token", "orders"]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    orders: _containers.RepeatedCompositeFieldContainer[Order]
    def __init__(self, orders: _Optional[_Iterable[_Union[Order, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Order(_message.Message):
    __slots__ = ["address", "buyer_nick", "buyer_open_id", "buyer_remark", "create_time", "discount_fen", "express_fee_fen", "item", "logistics", "notes", "order_id", "pay_time", "promised_ship_time", "raw", "receive_time", "refunds", "ship_time", "status", "total_fen", "update_time"]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    BUYER_NICK_FIELD_NUMBER: _ClassVar[int]
    BUYER_OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    BUYER_REMARK_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    EXPRESS_FEE_FEN_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    LOGISTICS_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PAY_TIME_FIELD_NUMBER: _ClassVar[int]
    PROMISED_SHIP_TIME_FIELD_NUMBER: _ClassVar[int]
    RAW_FIELD_NUMBER: _ClassVar[int]
    RECEIVE_TIME_FIELD_NUMBER: _ClassVar[int]
    REFUNDS_FIELD_NUMBER: _ClassVar[int]
    SHIP_TIME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FEN_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    address: OrderAddress
    buyer_nick: str
    buyer_open_id: str
    buyer_remark: str
    create_time: _timestamp_pb2.Timestamp
    discount_fen: int
    express_fee_fen: int
    item: OrderItem
    logistics: _containers.RepeatedCompositeFieldContainer[OrderLogistics]
    notes: _containers.RepeatedCompositeFieldContainer[OrderNote]
    order_id: int
    pay_time: _timestamp_pb2.Timestamp
    promised_ship_time: _timestamp_pb2.Timestamp
    raw: str
    receive_time: _timestamp_pb2.Timestamp
    refunds: _containers.RepeatedCompositeFieldContainer[OrderRefund]
    ship_time: _timestamp_pb2.Timestamp
    status: OrderStatus
    total_fen: int
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, order_id: _Optional[int] = ..., status: _Optional[_Union[OrderStatus, str]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., pay_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., ship_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., receive_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., promised_ship_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., total_fen: _Optional[int] = ..., express_fee_fen: _Optional[int] = ..., discount_fen: _Optional[int] = ..., buyer_open_id: _Optional[str] = ..., buyer_nick: _Optional[str] = ..., buyer_remark: _Optional[str] = ..., item: _Optional[_Union[OrderItem, _Mapping]] = ..., logistics: _Optional[_Iterable[_Union[OrderLogistics, _Mapping]]] = ..., refunds: _Optional[_Iterable[_Union[OrderRefund, _Mapping]]] = ..., address: _Optional[_Union[OrderAddress, _Mapping]] = ..., notes: _Optional[_Iterable[_Union[OrderNote, _Mapping]]] = ..., raw: _Optional[str] = ...) -> None: ...

class OrderAddress(_message.Message):
    __slots__ = ["city", "district", "encrypted_address", "encrypted_consignee", "encrypted_mobile", "masked_address", "masked_consignee", "masked_mobile", "province", "town"]
    CITY_FIELD_NUMBER: _ClassVar[int]
    DISTRICT_FIELD_NUMBER: _ClassVar[int]
    ENCRYPTED_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ENCRYPTED_CONSIGNEE_FIELD_NUMBER: _ClassVar[int]
    ENCRYPTED_MOBILE_FIELD_NUMBER: _ClassVar[int]
    MASKED_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    MASKED_CONSIGNEE_FIELD_NUMBER: _ClassVar[int]
    MASKED_MOBILE_FIELD_NUMBER: _ClassVar[int]
    PROVINCE_FIELD_NUMBER: _ClassVar[int]
    TOWN_FIELD_NUMBER: _ClassVar[int]
    city: str
    district: str
    encrypted_address: str
    encrypted_consignee: str
    encrypted_mobile: str
    masked_address: str
    masked_consignee: str
    masked_mobile: str
    province: str
    town: str
    def __init__(self, province: _Optional[str] = ..., city: _Optional[str] = ..., district: _Optional[str] = ..., town: _Optional[str] = ..., masked_consignee: _Optional[str] = ..., masked_mobile: _Optional[str] = ..., masked_address: _Optional[str] = ..., encrypted_consignee: _Optional[str] = ..., encrypted_mobile: _Optional[str] = ..., encrypted_address: _Optional[str] = ...) -> None: ...

class OrderItem(_message.Message):
    __slots__ = ["discount_fen", "item_id", "original_price_fen", "picture_url", "price_fen", "quantity", "rel_item_id", "rel_sku_id", "sku_desc", "sku_id", "sku_nick", "title"]
    DISCOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_PRICE_FEN_FIELD_NUMBER: _ClassVar[int]
    PICTURE_URL_FIELD_NUMBER: _ClassVar[int]
    PRICE_FEN_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    REL_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    REL_SKU_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_DESC_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_NICK_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    discount_fen: int
    item_id: int
    original_price_fen: int
    picture_url: str
    price_fen: int
    quantity: int
    rel_item_id: int
    rel_sku_id: int
    sku_desc: str
    sku_id: int
    sku_nick: str
    title: str
    def __init__(self, item_id: _Optional[int] = ..., sku_id: _Optional[int] = ..., rel_item_id: _Optional[int] = ..., rel_sku_id: _Optional[int] = ..., title: _Optional[str] = ..., sku_desc: _Optional[str] = ..., sku_nick: _Optional[str] = ..., picture_url: _Optional[str] = ..., quantity: _Optional[int] = ..., price_fen: _Optional[int] = ..., original_price_fen: _Optional[int] = ..., discount_fen: _Optional[int] = ...) -> None: ...

class OrderLogistics(_message.Message):
    __slots__ = ["express_code", "express_no", "logistics_id"]
    EXPRESS_CODE_FIELD_NUMBER: _ClassVar[int]
    EXPRESS_NO_FIELD_NUMBER: _ClassVar[int]
    LOGISTICS_ID_FIELD_NUMBER: _ClassVar[int]
    express_code: int
    express_no: str
    logistics_id: int
    def __init__(self, logistics_id: _Optional[int] = ..., express_code: _Optional[int] = ..., express_no: _Optional[str] = ...) -> None: ...

class OrderNote(_message.Message):
    __slots__ = ["create_time", "flag", "note"]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    FLAG_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    create_time: _timestamp_pb2.Timestamp
    flag: int
    note: str
    def __init__(self, note: _Optional[str] = ..., flag: _Optional[int] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OrderRefund(_message.Message):
    __slots__ = ["handling_way", "refund_id", "status"]
    HANDLING_WAY_FIELD_NUMBER: _ClassVar[int]
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    handling_way: _refund_pb2.RefundHandlingWay
    refund_id: int
    status: _refund_pb2.RefundStatus
    def __init__(self, refund_id: _Optional[int] = ..., status: _Optional[_Union[_refund_pb2.RefundStatus, str]] = ..., handling_way: _Optional[_Union[_refund_pb2.RefundHandlingWay, str]] = ...) -> None: ...

class ShipOrderRequest(_message.Message):
    __slots__ = ["express_code", "express_no", "open_id", "order_id", "request_id", "return_address_id"]
    EXPRESS_CODE_FIELD_NUMBER: _ClassVar[int]
    EXPRESS_NO_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RETURN_ADDRESS_ID_FIELD_NUMBER: _ClassVar[int]
    express_code: int
    express_no: str
    open_id: str
    order_id: int
    request_id: str
    return_address_id: int
    def __init__(self, open_id: _Optional[str] = ..., order_id: _Optional[int] = ..., express_code: _Optional[int] = ..., express_no: _Optional[str] = ..., return_address_id: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class ShipOrderResponse(_message.Message):
    __slots__ = ["order_id", "platform_request_id"]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: int
    platform_request_id: str
    def __init__(self, order_id: _Optional[int] = ..., platform_request_id: _Optional[str] = ...) -> None: ...

class UpdateOrderLogisticsRequest(_message.Message):
    __slots__ = ["express_code", "express_no", "logistics_id", "open_id", "order_id", "request_id"]
    EXPRESS_CODE_FIELD_NUMBER: _ClassVar[int]
    EXPRESS_NO_FIELD_NUMBER: _ClassVar[int]
    LOGISTICS_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    express_code: int
    express_no: str
    logistics_id: int
    open_id: str
    order_id: int
    request_id: str
    def __init__(self, open_id: _Optional[str] = ..., order_id: _Optional[int] = ..., express_code: _Optional[int] = ..., express_no: _Optional[str] = ..., logistics_id: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class UpdateOrderLogisticsResponse(_message.Message):
    __slots__ = ["order_id", "platform_request_id"]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: int
    platform_request_id: str
    def __init__(self, order_id: _Optional[int] = ..., platform_request_id: _Optional[str] = ...) -> None: ...

class OrderStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class OrderTimeField(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

from buf.validate import validate_pb2 as _validate_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

ACK_KIND_ACK: AckKind
ACK_KIND_IN_PROGRESS: AckKind
ACK_KIND_NACK: AckKind
ACK_KIND_TERMINATE: AckKind
ACK_KIND_UNSPECIFIED: AckKind
DESCRIPTOR: _descriptor.FileDescriptor
START_POSITION_BEGINNING: StartPosition
START_POSITION_NEW: StartPosition
START_POSITION_SEQUENCE: StartPosition
START_POSITION_TIME: StartPosition
START_POSITION_UNSPECIFIED: StartPosition

class AckMessagesRequest(_message.Message):
    __slots__ = ["ack", "group"]
    ACK_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    ack: Acknowledgement
    group: str
    def __init__(self, group: _Optional[str] = ..., ack: _Optional[_Union[Acknowledgement, _Mapping]] = ...) -> None: ...

class AckMessagesResponse(_message.Message):
    __slots__ = ["acknowledged"]
    ACKNOWLEDGED_FIELD_NUMBER: _ClassVar[int]
    acknowledged: int
    def __init__(self, acknowledged: _Optional[int] = ...) -> None: ...

class Acknowledgement(_message.Message):
    __slots__ = ["delivery_ids", "kind", "redeliver_delay"]
    DELIVERY_IDS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REDELIVER_DELAY_FIELD_NUMBER: _ClassVar[int]
    delivery_ids: _containers.RepeatedScalarFieldContainer[str]
    kind: AckKind
    redeliver_delay: _duration_pb2.Duration
    def __init__(self, delivery_ids: _Optional[_Iterable[str]] = ..., kind: _Optional[_Union[AckKind, str]] = ..., redeliver_delay: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ConsumerGroupOptions(_message.Message):
    __slots__ = ["ack_timeout", "event_types", "max_deliveries", "open_ids", "start_position", "start_sequence", "start_time"]
    ACK_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    MAX_DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    OPEN_IDS_FIELD_NUMBER: _ClassVar[int]
    START_POSITION_FIELD_NUMBER: _ClassVar[int]
    START_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    ack_timeout: _duration_pb2.Duration
    event_types: _containers.RepeatedScalarFieldContainer[str]
    max_deliveries: int
    open_ids: _containers.RepeatedScalarFieldContainer[str]
    start_position: StartPosition
    start_sequence: int
    start_time: _timestamp_pb2.Timestamp
    def __init__(self, event_types: _Optional[_Iterable[str]] = ..., open_ids: _Optional[_Iterable[str]] = ..., start_position: _Optional[_Union[StartPosition, str]] = ..., start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., start_sequence: _Optional[int] = ..., ack_timeout: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., max_deliveries: _Optional[int] = ...) -> None: ...

class DeadLetter(_message.Message):
    __slots__ = ["dead_time", "deliveries", "group", "id", "message", "reason"]
    DEAD_TIME_FIELD_NUMBER: _ClassVar[int]
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    dead_time: _timestamp_pb2.Timestamp
    deliveries: int
    group: str
    id: int
    message: Message
    reason: str
    def __init__(self, id: _Optional[int] = ..., group: _Optional[str] = ..., message: _Optional[_Union[Message, _Mapping]] = ..., deliveries: _Optional[int] = ..., reason: _Optional[str] = ..., dead_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Delivery(_message.Message):
    __slots__ = ["delivery_count", "delivery_id", "message"]
    DELIVERY_COUNT_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    delivery_count: int
    delivery_id: str
    message: Message
    def __init__(self, delivery_id: _Optional[str] = ..., message: _Optional[_Union[Message, _Mapping]] = ..., delivery_count: _Optional[int] = ...) -> None: ...

class GetMessageRequest(_message.Message):
    __slots__ = ["event_id"]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    def __init__(self, event_id: _Optional[str] = ...) -> None: ...

class GetMessageResponse(_message.Message):
    __slots__ = ["message"]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: Message
    def __init__(self, message: _Optional[_Union[Message, _Mapping]] = ...) -> None: ...

class ItemEvent(_message.Message):
    __slots__ = ["before_price_fen", "before_stock", "kwai_item_id", "price_fen", "rel_item_id", "seller_id", "shelf_status", "sku_id", "stock", "title", "update_time"]
    BEFORE_PRICE_FEN_FIELD_NUMBER: _ClassVar[int]
    BEFORE_STOCK_FIELD_NUMBER: _ClassVar[int]
    KWAI_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_FEN_FIELD_NUMBER: _ClassVar[int]
    REL_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    SHELF_STATUS_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    STOCK_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    before_price_fen: int
    before_stock: int
    kwai_item_id: int
    price_fen: int
    rel_item_id: int
    seller_id: int
    shelf_status: int
    sku_id: int
    stock: int
    title: str
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, kwai_item_id: _Optional[int] = ..., sku_id: _Optional[int] = ..., seller_id: _Optional[int] = ..., shelf_status: _Optional[int] = ..., stock: _Optional[int] = ..., price_fen: _Optional[int] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., rel_item_id: _Optional[int] = ..., title: _Optional[str] = ..., before_stock: _Optional[int] = ..., before_price_fen: _Optional[int] = ...) -> None: ...

class ListDeadLettersRequest(_message.Message):
    __slots__ = ["group", "page_size", "page_token"]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    group: str
    page_size: int
    page_token: str
    def __init__(self, group: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListDeadLettersResponse(_message.Message):
    __slots__ = ["dead_letters", "next_page_token"]
    DEAD_LETTERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    dead_letters: _containers.RepeatedCompositeFieldContainer[DeadLetter]
    next_page_token: str
    def __init__(self, dead_letters: _Optional[_Iterable[_Union[DeadLetter, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListMessagesRequest(_message.Message):
    __slots__ = ["end_time", "event_types", "open_ids", "page_size", "page_token", "start_time"]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    OPEN_IDS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    end_time: _timestamp_pb2.Timestamp
    event_types: _containers.RepeatedScalarFieldContainer[str]
    open_ids: _containers.RepeatedScalarFieldContainer[str]
    page_size: int
    page_token: str
    start_time: _timestamp_pb2.Timestamp
    def __init__(self, event_types: _Optional[_Iterable[str]] = ..., open_ids: _Optional[_Iterable[str]] = ..., start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListMessagesResponse(_message.Message):
    __slots__ = ["messages", "next_page_token"]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[Message]
    next_page_token: str
    def __init__(self, messages: _Optional[_Iterable[_Union[Message, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Message(_message.Message):
    __slots__ = ["app_key", "biz_id", "create_time", "event", "event_id", "info", "item", "open_id", "order_address", "order_address_audit", "order_created", "order_fee", "order_note", "order_status", "receive_time", "reconciled", "refund", "replayed", "sequence", "test", "user_id"]
    APP_KEY_FIELD_NUMBER: _ClassVar[int]
    BIZ_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ADDRESS_AUDIT_FIELD_NUMBER: _ClassVar[int]
    ORDER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ORDER_CREATED_FIELD_NUMBER: _ClassVar[int]
    ORDER_FEE_FIELD_NUMBER: _ClassVar[int]
    ORDER_NOTE_FIELD_NUMBER: _ClassVar[int]
    ORDER_STATUS_FIELD_NUMBER: _ClassVar[int]
    RECEIVE_TIME_FIELD_NUMBER: _ClassVar[int]
    RECONCILED_FIELD_NUMBER: _ClassVar[int]
    REFUND_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TEST_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    app_key: str
    biz_id: int
    create_time: _timestamp_pb2.Timestamp
    event: str
    event_id: str
    info: str
    item: ItemEvent
    open_id: str
    order_address: OrderAddressEvent
    order_address_audit: OrderAddressAuditEvent
    order_created: OrderCreatedEvent
    order_fee: OrderFeeEvent
    order_note: OrderNoteEvent
    order_status: OrderStatusEvent
    receive_time: _timestamp_pb2.Timestamp
    reconciled: bool
    refund: RefundEvent
    replayed: bool
    sequence: int
    test: bool
    user_id: int
    def __init__(self, event_id: _Optional[str] = ..., biz_id: _Optional[int] = ..., user_id: _Optional[int] = ..., open_id: _Optional[str] = ..., app_key: _Optional[str] = ..., event: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., test: bool = ..., reconciled: bool = ..., replayed: bool = ..., sequence: _Optional[int] = ..., receive_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., info: _Optional[str] = ..., order_created: _Optional[_Union[OrderCreatedEvent, _Mapping]] = ..., order_status: _Optional[_Union[OrderStatusEvent, _Mapping]] = ..., order_address: _Optional[_Union[OrderAddressEvent, _Mapping]] = ..., order_address_audit: _Optional[_Union[OrderAddressAuditEvent, _Mapping]] = ..., order_note: _Optional[_Union[OrderNoteEvent, _Mapping]] = ..., order_fee: _Optional[_Union[OrderFeeEvent, _Mapping]] = ..., refund: _Optional[_Union[RefundEvent, _Mapping]] = ..., item: _Optional[_Union[ItemEvent, _Mapping]] = ...) -> None: ...

class OrderAddressAuditEvent(_message.Message):
    __slots__ = ["audit_status", "audit_time", "buyer_open_id", "create_time", "oid", "open_id"]
    AUDIT_STATUS_FIELD_NUMBER: _ClassVar[int]
    AUDIT_TIME_FIELD_NUMBER: _ClassVar[int]
    BUYER_OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    OID_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    audit_status: int
    audit_time: _timestamp_pb2.Timestamp
    buyer_open_id: str
    create_time: _timestamp_pb2.Timestamp
    oid: int
    open_id: str
    def __init__(self, oid: _Optional[int] = ..., open_id: _Optional[str] = ..., buyer_open_id: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., audit_status: _Optional[int] = ..., audit_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OrderAddressEvent(_message.Message):
    __slots__ = ["buyer_open_id", "oid", "open_id", "seller_id", "update_time"]
    BUYER_OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    OID_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    buyer_open_id: str
    oid: int
    open_id: str
    seller_id: int
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, oid: _Optional[int] = ..., seller_id: _Optional[int] = ..., open_id: _Optional[str] = ..., buyer_open_id: _Optional[str] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OrderCreatedEvent(_message.Message):
    __slots__ = ["buyer_open_id", "create_time", "oid", "open_id", "seller_id"]
    BUYER_OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    OID_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    buyer_open_id: str
    create_time: _timestamp_pb2.Timestamp
    oid: int
    open_id: str
    seller_id: int
    def __init__(self, oid: _Optional[int] = ..., seller_id: _Optional[int] = ..., open_id: _Optional[str] = ..., buyer_open_id: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OrderFeeEvent(_message.Message):
    __slots__ = ["before_total_fee_fen", "express_fee_fen", "oid", "seller_id", "total_fee_fen"]
    BEFORE_TOTAL_FEE_FEN_FIELD_NUMBER: _ClassVar[int]
    EXPRESS_FEE_FEN_FIELD_NUMBER: _ClassVar[int]
    OID_FIELD_NUMBER: _ClassVar[int]
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FEE_FEN_FIELD_NUMBER: _ClassVar[int]
    before_total_fee_fen: int
    express_fee_fen: int
    oid: int
    seller_id: int
    total_fee_fen: int
    def __init__(self, oid: _Optional[int] = ..., seller_id: _Optional[int] = ..., total_fee_fen: _Optional[int] = ..., before_total_fee_fen: _Optional[int] = ..., express_fee_fen: _Optional[int] = ...) -> None: ...

class OrderNoteEvent(_message.Message):
    __slots__ = ["event_type", "flag", "note", "oid", "operator_name", "operator_type", "type", "update_time"]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FLAG_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    OID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_NAME_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_TYPE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    event_type: str
    flag: int
    note: str
    oid: int
    operator_name: str
    operator_type: int
    type: int
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, oid: _Optional[int] = ..., note: _Optional[str] = ..., flag: _Optional[int] = ..., type: _Optional[int] = ..., event_type: _Optional[str] = ..., operator_name: _Optional[str] = ..., operator_type: _Optional[int] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OrderStatusEvent(_message.Message):
    __slots__ = ["oid", "seller_id", "status", "update_time"]
    OID_FIELD_NUMBER: _ClassVar[int]
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    oid: int
    seller_id: int
    status: int
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, oid: _Optional[int] = ..., seller_id: _Optional[int] = ..., status: _Optional[int] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PullMessagesRequest(_message.Message):
    __slots__ = ["group", "group_options", "max_messages", "wait"]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    GROUP_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    MAX_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    group: str
    group_options: ConsumerGroupOptions
    max_messages: int
    wait: _duration_pb2.Duration
    def __init__(self, group: _Optional[str] = ..., group_options: _Optional[_Union[ConsumerGroupOptions, _Mapping]] = ..., max_messages: _Optional[int] = ..., wait: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class PullMessagesResponse(_message.Message):
    __slots__ = ["deliveries"]
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[Delivery]
    def __init__(self, deliveries: _Optional[_Iterable[_Union[Delivery, _Mapping]]] = ...) -> None: ...

class RefundEvent(_message.Message):
    __slots__ = ["create_time", "event_type", "handling_way", "order_id", "refund_id", "special_refund_type", "status", "update_time"]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    HANDLING_WAY_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    SPECIAL_REFUND_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    create_time: _timestamp_pb2.Timestamp
    event_type: str
    handling_way: int
    order_id: int
    refund_id: int
    special_refund_type: int
    status: int
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, order_id: _Optional[int] = ..., refund_id: _Optional[int] = ..., handling_way: _Optional[int] = ..., special_refund_type: _Optional[int] = ..., status: _Optional[int] = ..., event_type: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReplayMessagesRequest(_message.Message):
    __slots__ = ["end_time", "group", "start_time"]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    end_time: _timestamp_pb2.Timestamp
    group: str
    start_time: _timestamp_pb2.Timestamp
    def __init__(self, group: _Optional[str] = ..., start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReplayMessagesResponse(_message.Message):
    __slots__ = ["replayed"]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    replayed: int
    def __init__(self, replayed: _Optional[int] = ...) -> None: ...

class RequeueDeadLetterRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class RequeueDeadLetterResponse(_message.Message):
    __slots__ = ["group"]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    group: str
    def __init__(self, group: _Optional[str] = ...) -> None: ...

class SubscribeOpen(_message.Message):
    __slots__ = ["group", "group_options", "max_in_flight"]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    GROUP_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    MAX_IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    group: str
    group_options: ConsumerGroupOptions
    max_in_flight: int
    def __init__(self, group: _Optional[str] = ..., group_options: _Optional[_Union[ConsumerGroupOptions, _Mapping]] = ..., max_in_flight: _Optional[int] = ...) -> None: ...

class SubscribeRequest(_message.Message):
    __slots__ = ["ack", "open"]
    ACK_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    ack: Acknowledgement
    open: SubscribeOpen
    def __init__(self, open: _Optional[_Union[SubscribeOpen, _Mapping]] = ..., ack: _Optional[_Union[Acknowledgement, _Mapping]] = ...) -> None: ...

class SubscribeResponse(_message.Message):
    __slots__ = ["delivery", "subscribed"]
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBED_FIELD_NUMBER: _ClassVar[int]
    delivery: Delivery
    subscribed: Subscribed
    def __init__(self, subscribed: _Optional[_Union[Subscribed, _Mapping]] = ..., delivery: _Optional[_Union[Delivery, _Mapping]] = ...) -> None: ...

class Subscribed(_message.Message):
    __slots__ = ["created", "group"]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    created: bool
    group: str
    def __init__(self, group: _Optional[str] = ..., created: bool = ...) -> None: ...

class StartPosition(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class AckKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

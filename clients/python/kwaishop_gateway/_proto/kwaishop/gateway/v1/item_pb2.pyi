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
IMAGE_UPLOAD_TYPE_CATEGORY_PROPERTY: ImageUploadType
IMAGE_UPLOAD_TYPE_DETAIL: ImageUploadType
IMAGE_UPLOAD_TYPE_MAIN: ImageUploadType
IMAGE_UPLOAD_TYPE_SKU: ImageUploadType
IMAGE_UPLOAD_TYPE_STANDARD_PRODUCT: ImageUploadType
IMAGE_UPLOAD_TYPE_TRANSPARENT: ImageUploadType
IMAGE_UPLOAD_TYPE_UNSPECIFIED: ImageUploadType
IMAGE_UPLOAD_TYPE_WHITE_BACKGROUND: ImageUploadType
SHELF_STATUS_OFF_SHELF: ShelfStatus
SHELF_STATUS_ON_SHELF: ShelfStatus
SHELF_STATUS_UNSPECIFIED: ShelfStatus
STOCK_CHANGE_ADD: StockChange
STOCK_CHANGE_REDUCE: StockChange
STOCK_CHANGE_UNSPECIFIED: StockChange

class GetItemRequest(_message.Message):
    __slots__ = ["item_id", "open_id"]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    item_id: int
    open_id: str
    def __init__(self, open_id: _Optional[str] = ..., item_id: _Optional[int] = ...) -> None: ...

class GetItemResponse(_message.Message):
    __slots__ = ["item"]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    item: Item
    def __init__(self, item: _Optional[_Union[Item, _Mapping]] = ...) -> None: ...

class Item(_message.Message):
    __slots__ = ["audit_status", "category_id", "category_name", "create_time", "image_urls", "item_id", "main_image_url", "price_fen", "raw", "rel_item_id", "shelf_status", "skus", "title", "update_time"]
    AUDIT_STATUS_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_ID_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_NAME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    IMAGE_URLS_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    MAIN_IMAGE_URL_FIELD_NUMBER: _ClassVar[int]
    PRICE_FEN_FIELD_NUMBER: _ClassVar[int]
    RAW_FIELD_NUMBER: _ClassVar[int]
    REL_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    SHELF_STATUS_FIELD_NUMBER: _ClassVar[int]
    SKUS_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    audit_status: int
    category_id: int
    category_name: str
    create_time: _timestamp_pb2.Timestamp
    image_urls: _containers.RepeatedScalarFieldContainer[str]
    item_id: int
    main_image_url: str
    price_fen: int
    raw: str
    rel_item_id: int
    shelf_status: ShelfStatus
    skus: _containers.RepeatedCompositeFieldContainer[Sku]
    title: str
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, item_id: _Optional[int] = ..., rel_item_id: _Optional[int] = ..., title: _Optional[str] = ..., price_fen: _Optional[int] = ..., shelf_status: _Optional[_Union[ShelfStatus, str]] = ..., audit_status: _Optional[int] = ..., category_id: _Optional[int] = ..., category_name: _Optional[str] = ..., main_image_url: _Optional[str] = ..., image_urls: _Optional[_Iterable[str]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., skus: _Optional[_Iterable[_Union[Sku, _Mapping]]] = ..., raw: _Optional[str] = ...) -> None: ...

class ListItemsRequest(_message.Message):
    __slots__ = ["open_id", "page_size", "page_token"]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    open_id: str
    page_size: int
    page_token: str
    def __init__(self, open_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListItemsResponse(_message.Message):
    __slots__ = ["items", "next_page_token", "total_size"]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Item]
    next_page_token: str
    total_size: int
    def __init__(self, items: _Optional[_Iterable[_Union[Item, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class SetItemShelfStatusRequest(_message.Message):
    __slots__ = ["item_id", "open_id", "request_id", "shelf_status"]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SHELF_STATUS_FIELD_NUMBER: _ClassVar[int]
    item_id: int
    open_id: str
    request_id: str
    shelf_status: ShelfStatus
    def __init__(self, open_id: _Optional[str] = ..., item_id: _Optional[int] = ..., shelf_status: _Optional[_Union[ShelfStatus, str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class SetItemShelfStatusResponse(_message.Message):
    __slots__ = ["item_id", "platform_request_id"]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    item_id: int
    platform_request_id: str
    def __init__(self, item_id: _Optional[int] = ..., platform_request_id: _Optional[str] = ...) -> None: ...

class Sku(_message.Message):
    __slots__ = ["market_price_fen", "price_fen", "rel_sku_id", "sku_id", "sku_nick", "specification", "stock"]
    MARKET_PRICE_FEN_FIELD_NUMBER: _ClassVar[int]
    PRICE_FEN_FIELD_NUMBER: _ClassVar[int]
    REL_SKU_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_NICK_FIELD_NUMBER: _ClassVar[int]
    SPECIFICATION_FIELD_NUMBER: _ClassVar[int]
    STOCK_FIELD_NUMBER: _ClassVar[int]
    market_price_fen: int
    price_fen: int
    rel_sku_id: int
    sku_id: int
    sku_nick: str
    specification: str
    stock: int
    def __init__(self, sku_id: _Optional[int] = ..., rel_sku_id: _Optional[int] = ..., sku_nick: _Optional[str] = ..., specification: _Optional[str] = ..., price_fen: _Optional[int] = ..., market_price_fen: _Optional[int] = ..., stock: _Optional[int] = ...) -> None: ...

class UpdateSkuPriceRequest(_message.Message):
    __slots__ = ["item_id", "open_id", "price_fen", "request_id", "sku_id"]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_FEN_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    item_id: int
    open_id: str
    price_fen: int
    request_id: str
    sku_id: int
    def __init__(self, open_id: _Optional[str] = ..., item_id: _Optional[int] = ..., sku_id: _Optional[int] = ..., price_fen: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class UpdateSkuPriceResponse(_message.Message):
    __slots__ = ["item_id", "platform_request_id", "sku_id"]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    item_id: int
    platform_request_id: str
    sku_id: int
    def __init__(self, item_id: _Optional[int] = ..., sku_id: _Optional[int] = ..., platform_request_id: _Optional[str] = ...) -> None: ...

class UpdateSkuStockRequest(_message.Message):
    __slots__ = ["change", "item_id", "open_id", "quantity", "request_id", "sku_id"]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    change: StockChange
    item_id: int
    open_id: str
    quantity: int
    request_id: str
    sku_id: int
    def __init__(self, open_id: _Optional[str] = ..., item_id: _Optional[int] = ..., sku_id: _Optional[int] = ..., change: _Optional[_Union[StockChange, str]] = ..., quantity: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class UpdateSkuStockResponse(_message.Message):
    __slots__ = ["item_id", "platform_request_id", "sku_id"]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    item_id: int
    platform_request_id: str
    sku_id: int
    def __init__(self, item_id: _Optional[int] = ..., sku_id: _Optional[int] = ..., platform_request_id: _Optional[str] = ...) -> None: ...

class UploadImageRequest(_message.Message):
    __slots__ = ["image", "image_url", "open_id", "upload_type"]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_URL_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_TYPE_FIELD_NUMBER: _ClassVar[int]
    image: bytes
    image_url: str
    open_id: str
    upload_type: ImageUploadType
    def __init__(self, open_id: _Optional[str] = ..., image: _Optional[bytes] = ..., upload_type: _Optional[_Union[ImageUploadType, str]] = ..., image_url: _Optional[str] = ...) -> None: ...

class UploadImageResponse(_message.Message):
    __slots__ = ["kwai_image_url", "origin_image_url", "platform_request_id", "raw"]
    KWAI_IMAGE_URL_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_IMAGE_URL_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RAW_FIELD_NUMBER: _ClassVar[int]
    kwai_image_url: str
    origin_image_url: str
    platform_request_id: str
    raw: str
    def __init__(self, kwai_image_url: _Optional[str] = ..., origin_image_url: _Optional[str] = ..., platform_request_id: _Optional[str] = ..., raw: _Optional[str] = ...) -> None: ...

class ShelfStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class StockChange(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ImageUploadType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

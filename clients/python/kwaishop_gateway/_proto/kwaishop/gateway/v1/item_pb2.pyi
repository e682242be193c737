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
PROPERTY_INPUT_TYPE_CHECKBOX: PropertyInputType
PROPERTY_INPUT_TYPE_DATETIME: PropertyInputType
PROPERTY_INPUT_TYPE_DATETIME_RANGE: PropertyInputType
PROPERTY_INPUT_TYPE_EMAIL: PropertyInputType
PROPERTY_INPUT_TYPE_IMAGE: PropertyInputType
PROPERTY_INPUT_TYPE_NUMBER: PropertyInputType
PROPERTY_INPUT_TYPE_RADIO: PropertyInputType
PROPERTY_INPUT_TYPE_TEXT: PropertyInputType
PROPERTY_INPUT_TYPE_UNSPECIFIED: PropertyInputType
PROPERTY_INPUT_TYPE_URL: PropertyInputType
SHELF_STATUS_OFF_SHELF: ShelfStatus
SHELF_STATUS_ON_SHELF: ShelfStatus
SHELF_STATUS_UNSPECIFIED: ShelfStatus
STOCK_CHANGE_ADD: StockChange
STOCK_CHANGE_REDUCE: StockChange
STOCK_CHANGE_UNSPECIFIED: StockChange

class Category(_message.Message):
    __slots__ = ["category_id", "name", "parent_id"]
    CATEGORY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    category_id: int
    name: str
    parent_id: int
    def __init__(self, category_id: _Optional[int] = ..., name: _Optional[str] = ..., parent_id: _Optional[int] = ...) -> None: ...

class CategoryProperty(_message.Message):
    __slots__ = ["custom_input", "input_type", "input_type_name", "max_images", "max_length", "max_values", "min_images", "min_length", "name", "property_id", "required", "sort_num", "values", "values_complete"]
    CUSTOM_INPUT_FIELD_NUMBER: _ClassVar[int]
    INPUT_TYPE_FIELD_NUMBER: _ClassVar[int]
    INPUT_TYPE_NAME_FIELD_NUMBER: _ClassVar[int]
    MAX_IMAGES_FIELD_NUMBER: _ClassVar[int]
    MAX_LENGTH_FIELD_NUMBER: _ClassVar[int]
    MAX_VALUES_FIELD_NUMBER: _ClassVar[int]
    MIN_IMAGES_FIELD_NUMBER: _ClassVar[int]
    MIN_LENGTH_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROPERTY_ID_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    SORT_NUM_FIELD_NUMBER: _ClassVar[int]
    VALUES_COMPLETE_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    custom_input: bool
    input_type: PropertyInputType
    input_type_name: str
    max_images: int
    max_length: int
    max_values: int
    min_images: int
    min_length: int
    name: str
    property_id: int
    required: bool
    sort_num: int
    values: _containers.RepeatedCompositeFieldContainer[PropertyValue]
    values_complete: bool
    def __init__(self, property_id: _Optional[int] = ..., name: _Optional[str] = ..., required: bool = ..., input_type: _Optional[_Union[PropertyInputType, str]] = ..., input_type_name: _Optional[str] = ..., max_values: _Optional[int] = ..., custom_input: bool = ..., sort_num: _Optional[int] = ..., values: _Optional[_Iterable[_Union[PropertyValue, _Mapping]]] = ..., values_complete: bool = ..., min_length: _Optional[int] = ..., max_length: _Optional[int] = ..., min_images: _Optional[int] = ..., max_images: _Optional[int] = ...) -> None: ...

class CategorySuggestion(_message.Message):
    __slots__ = ["category_ids", "category_names", "open"]
    CATEGORY_IDS_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_NAMES_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    category_ids: _containers.RepeatedScalarFieldContainer[int]
    category_names: _containers.RepeatedScalarFieldContainer[str]
    open: bool
    def __init__(self, category_ids: _Optional[_Iterable[int]] = ..., category_names: _Optional[_Iterable[str]] = ..., open: bool = ...) -> None: ...

class CreateItemRequest(_message.Message):
    __slots__ = ["category_id", "detail_image_urls", "details", "express_template_id", "image_urls", "open_id", "properties", "refund_rule", "rel_item_id", "request_id", "skus", "title"]
    CATEGORY_ID_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_IMAGE_URLS_FIELD_NUMBER: _ClassVar[int]
    EXPRESS_TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_URLS_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    REFUND_RULE_FIELD_NUMBER: _ClassVar[int]
    REL_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SKUS_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    category_id: int
    detail_image_urls: _containers.RepeatedScalarFieldContainer[str]
    details: str
    express_template_id: int
    image_urls: _containers.RepeatedScalarFieldContainer[str]
    open_id: str
    properties: _containers.RepeatedCompositeFieldContainer[ItemProperty]
    refund_rule: int
    rel_item_id: int
    request_id: str
    skus: _containers.RepeatedCompositeFieldContainer[NewSku]
    title: str
    def __init__(self, open_id: _Optional[str] = ..., category_id: _Optional[int] = ..., title: _Optional[str] = ..., rel_item_id: _Optional[int] = ..., image_urls: _Optional[_Iterable[str]] = ..., detail_image_urls: _Optional[_Iterable[str]] = ..., details: _Optional[str] = ..., express_template_id: _Optional[int] = ..., refund_rule: _Optional[int] = ..., properties: _Optional[_Iterable[_Union[ItemProperty, _Mapping]]] = ..., skus: _Optional[_Iterable[_Union[NewSku, _Mapping]]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateItemResponse(_message.Message):
    __slots__ = ["item_id", "platform_request_id", "rel_item_id", "skus"]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REL_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    SKUS_FIELD_NUMBER: _ClassVar[int]
    item_id: int
    platform_request_id: str
    rel_item_id: int
    skus: _containers.RepeatedCompositeFieldContainer[SkuRef]
    def __init__(self, item_id: _Optional[int] = ..., rel_item_id: _Optional[int] = ..., skus: _Optional[_Iterable[_Union[SkuRef, _Mapping]]] = ..., platform_request_id: _Optional[str] = ...) -> None: ...

class GetCategoryPropertiesRequest(_message.Message):
    __slots__ = ["category_id", "open_id"]
    CATEGORY_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    category_id: int
    open_id: str
    def __init__(self, open_id: _Optional[str] = ..., category_id: _Optional[int] = ...) -> None: ...

class GetCategoryPropertiesResponse(_message.Message):
    __slots__ = ["category_id", "properties", "properties_enabled", "raw", "refund_rules"]
    CATEGORY_ID_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_ENABLED_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    RAW_FIELD_NUMBER: _ClassVar[int]
    REFUND_RULES_FIELD_NUMBER: _ClassVar[int]
    category_id: int
    properties: _containers.RepeatedCompositeFieldContainer[CategoryProperty]
    properties_enabled: bool
    raw: str
    refund_rules: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, category_id: _Optional[int] = ..., properties_enabled: bool = ..., properties: _Optional[_Iterable[_Union[CategoryProperty, _Mapping]]] = ..., refund_rules: _Optional[_Iterable[int]] = ..., raw: _Optional[str] = ...) -> None: ...

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
    __slots__ = ["audit_status", "category_id", "category_name", "create_time", "detail_image_urls", "details", "image_urls", "item_id", "main_image_url", "price_fen", "properties", "raw", "rel_item_id", "shelf_status", "skus", "title", "update_time"]
    AUDIT_STATUS_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_ID_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_NAME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_IMAGE_URLS_FIELD_NUMBER: _ClassVar[int]
    IMAGE_URLS_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    MAIN_IMAGE_URL_FIELD_NUMBER: _ClassVar[int]
    PRICE_FEN_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
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
    detail_image_urls: _containers.RepeatedScalarFieldContainer[str]
    details: str
    image_urls: _containers.RepeatedScalarFieldContainer[str]
    item_id: int
    main_image_url: str
    price_fen: int
    properties: _containers.RepeatedCompositeFieldContainer[ItemProperty]
    raw: str
    rel_item_id: int
    shelf_status: ShelfStatus
    skus: _containers.RepeatedCompositeFieldContainer[Sku]
    title: str
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, item_id: _Optional[int] = ..., rel_item_id: _Optional[int] = ..., title: _Optional[str] = ..., price_fen: _Optional[int] = ..., shelf_status: _Optional[_Union[ShelfStatus, str]] = ..., audit_status: _Optional[int] = ..., category_id: _Optional[int] = ..., category_name: _Optional[str] = ..., main_image_url: _Optional[str] = ..., image_urls: _Optional[_Iterable[str]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., skus: _Optional[_Iterable[_Union[Sku, _Mapping]]] = ..., raw: _Optional[str] = ..., properties: _Optional[_Iterable[_Union[ItemProperty, _Mapping]]] = ..., detail_image_urls: _Optional[_Iterable[str]] = ..., details: _Optional[str] = ...) -> None: ...

class ItemProperty(_message.Message):
    __slots__ = ["end_time", "image_urls", "name", "property_id", "text", "time", "values"]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    IMAGE_URLS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROPERTY_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    end_time: _timestamp_pb2.Timestamp
    image_urls: _containers.RepeatedScalarFieldContainer[str]
    name: str
    property_id: int
    text: str
    time: _timestamp_pb2.Timestamp
    values: _containers.RepeatedCompositeFieldContainer[PropertyValue]
    def __init__(self, property_id: _Optional[int] = ..., values: _Optional[_Iterable[_Union[PropertyValue, _Mapping]]] = ..., text: _Optional[str] = ..., image_urls: _Optional[_Iterable[str]] = ..., time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., name: _Optional[str] = ...) -> None: ...

class ListBrandsRequest(_message.Message):
    __slots__ = ["category_id", "open_id", "page_token", "property_id", "query"]
    CATEGORY_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PROPERTY_ID_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    category_id: int
    open_id: str
    page_token: str
    property_id: int
    query: str
    def __init__(self, open_id: _Optional[str] = ..., category_id: _Optional[int] = ..., property_id: _Optional[int] = ..., query: _Optional[str] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListBrandsResponse(_message.Message):
    __slots__ = ["brands", "next_page_token", "property_id", "total_size"]
    BRANDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PROPERTY_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    brands: _containers.RepeatedCompositeFieldContainer[PropertyValue]
    next_page_token: str
    property_id: int
    total_size: int
    def __init__(self, brands: _Optional[_Iterable[_Union[PropertyValue, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ..., property_id: _Optional[int] = ...) -> None: ...

class ListCategoriesRequest(_message.Message):
    __slots__ = ["open_id", "parent_id"]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    open_id: str
    parent_id: int
    def __init__(self, open_id: _Optional[str] = ..., parent_id: _Optional[int] = ...) -> None: ...

class ListCategoriesResponse(_message.Message):
    __slots__ = ["categories"]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    categories: _containers.RepeatedCompositeFieldContainer[Category]
    def __init__(self, categories: _Optional[_Iterable[_Union[Category, _Mapping]]] = ...) -> None: ...

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

class NewSku(_message.Message):
    __slots__ = ["market_price_fen", "price_fen", "rel_sku_id", "sku_nick", "specs", "stock"]
    MARKET_PRICE_FEN_FIELD_NUMBER: _ClassVar[int]
    PRICE_FEN_FIELD_NUMBER: _ClassVar[int]
    REL_SKU_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_NICK_FIELD_NUMBER: _ClassVar[int]
    SPECS_FIELD_NUMBER: _ClassVar[int]
    STOCK_FIELD_NUMBER: _ClassVar[int]
    market_price_fen: int
    price_fen: int
    rel_sku_id: int
    sku_nick: str
    specs: _containers.RepeatedCompositeFieldContainer[SkuSpec]
    stock: int
    def __init__(self, rel_sku_id: _Optional[int] = ..., sku_nick: _Optional[str] = ..., price_fen: _Optional[int] = ..., market_price_fen: _Optional[int] = ..., stock: _Optional[int] = ..., specs: _Optional[_Iterable[_Union[SkuSpec, _Mapping]]] = ...) -> None: ...

class PropertyValue(_message.Message):
    __slots__ = ["value", "value_id"]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    VALUE_ID_FIELD_NUMBER: _ClassVar[int]
    value: str
    value_id: int
    def __init__(self, value_id: _Optional[int] = ..., value: _Optional[str] = ...) -> None: ...

class SearchPropertyValuesRequest(_message.Message):
    __slots__ = ["category_id", "open_id", "page_size", "page_token", "property_id", "query"]
    CATEGORY_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PROPERTY_ID_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    category_id: int
    open_id: str
    page_size: int
    page_token: str
    property_id: int
    query: str
    def __init__(self, open_id: _Optional[str] = ..., category_id: _Optional[int] = ..., property_id: _Optional[int] = ..., query: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class SearchPropertyValuesResponse(_message.Message):
    __slots__ = ["next_page_token", "total_size", "values"]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    total_size: int
    values: _containers.RepeatedCompositeFieldContainer[PropertyValue]
    def __init__(self, values: _Optional[_Iterable[_Union[PropertyValue, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

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
    __slots__ = ["market_price_fen", "price_fen", "rel_sku_id", "sku_id", "sku_nick", "specification", "specs", "stock"]
    MARKET_PRICE_FEN_FIELD_NUMBER: _ClassVar[int]
    PRICE_FEN_FIELD_NUMBER: _ClassVar[int]
    REL_SKU_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_NICK_FIELD_NUMBER: _ClassVar[int]
    SPECIFICATION_FIELD_NUMBER: _ClassVar[int]
    SPECS_FIELD_NUMBER: _ClassVar[int]
    STOCK_FIELD_NUMBER: _ClassVar[int]
    market_price_fen: int
    price_fen: int
    rel_sku_id: int
    sku_id: int
    sku_nick: str
    specification: str
    specs: _containers.RepeatedCompositeFieldContainer[SkuSpec]
    stock: int
    def __init__(self, sku_id: _Optional[int] = ..., rel_sku_id: _Optional[int] = ..., sku_nick: _Optional[str] = ..., specification: _Optional[str] = ..., price_fen: _Optional[int] = ..., market_price_fen: _Optional[int] = ..., stock: _Optional[int] = ..., specs: _Optional[_Iterable[_Union[SkuSpec, _Mapping]]] = ...) -> None: ...

class SkuRef(_message.Message):
    __slots__ = ["rel_sku_id", "sku_id", "sku_nick"]
    REL_SKU_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_NICK_FIELD_NUMBER: _ClassVar[int]
    rel_sku_id: int
    sku_id: int
    sku_nick: str
    def __init__(self, sku_id: _Optional[int] = ..., rel_sku_id: _Optional[int] = ..., sku_nick: _Optional[str] = ...) -> None: ...

class SkuSpec(_message.Message):
    __slots__ = ["image_url", "main", "name", "value"]
    IMAGE_URL_FIELD_NUMBER: _ClassVar[int]
    MAIN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    image_url: str
    main: bool
    name: str
    value: str
    def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ..., main: bool = ..., image_url: _Optional[str] = ...) -> None: ...

class SuggestCategoriesRequest(_message.Message):
    __slots__ = ["description", "image_urls", "open_id", "title"]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    IMAGE_URLS_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    description: str
    image_urls: _containers.RepeatedScalarFieldContainer[str]
    open_id: str
    title: str
    def __init__(self, open_id: _Optional[str] = ..., title: _Optional[str] = ..., image_urls: _Optional[_Iterable[str]] = ..., description: _Optional[str] = ...) -> None: ...

class SuggestCategoriesResponse(_message.Message):
    __slots__ = ["suggestions"]
    SUGGESTIONS_FIELD_NUMBER: _ClassVar[int]
    suggestions: _containers.RepeatedCompositeFieldContainer[CategorySuggestion]
    def __init__(self, suggestions: _Optional[_Iterable[_Union[CategorySuggestion, _Mapping]]] = ...) -> None: ...

class UpdateItemRequest(_message.Message):
    __slots__ = ["category_id", "detail_image_urls", "details", "image_urls", "item_id", "open_id", "properties", "request_id", "skus", "title", "update_properties"]
    CATEGORY_ID_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_IMAGE_URLS_FIELD_NUMBER: _ClassVar[int]
    IMAGE_URLS_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SKUS_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    category_id: int
    detail_image_urls: _containers.RepeatedScalarFieldContainer[str]
    details: str
    image_urls: _containers.RepeatedScalarFieldContainer[str]
    item_id: int
    open_id: str
    properties: _containers.RepeatedCompositeFieldContainer[ItemProperty]
    request_id: str
    skus: _containers.RepeatedCompositeFieldContainer[UpdateSku]
    title: str
    update_properties: bool
    def __init__(self, open_id: _Optional[str] = ..., item_id: _Optional[int] = ..., title: _Optional[str] = ..., category_id: _Optional[int] = ..., image_urls: _Optional[_Iterable[str]] = ..., detail_image_urls: _Optional[_Iterable[str]] = ..., details: _Optional[str] = ..., update_properties: bool = ..., properties: _Optional[_Iterable[_Union[ItemProperty, _Mapping]]] = ..., skus: _Optional[_Iterable[_Union[UpdateSku, _Mapping]]] = ..., request_id: _Optional[str] = ...) -> None: ...

class UpdateItemResponse(_message.Message):
    __slots__ = ["item_id", "platform_request_id", "rel_item_id", "skus"]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REL_ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    SKUS_FIELD_NUMBER: _ClassVar[int]
    item_id: int
    platform_request_id: str
    rel_item_id: int
    skus: _containers.RepeatedCompositeFieldContainer[SkuRef]
    def __init__(self, item_id: _Optional[int] = ..., rel_item_id: _Optional[int] = ..., skus: _Optional[_Iterable[_Union[SkuRef, _Mapping]]] = ..., platform_request_id: _Optional[str] = ...) -> None: ...

class UpdateSku(_message.Message):
    __slots__ = ["market_price_fen", "price_fen", "sku_id", "sku_nick", "stock"]
    MARKET_PRICE_FEN_FIELD_NUMBER: _ClassVar[int]
    PRICE_FEN_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_NICK_FIELD_NUMBER: _ClassVar[int]
    STOCK_FIELD_NUMBER: _ClassVar[int]
    market_price_fen: int
    price_fen: int
    sku_id: int
    sku_nick: str
    stock: int
    def __init__(self, sku_id: _Optional[int] = ..., price_fen: _Optional[int] = ..., stock: _Optional[int] = ..., market_price_fen: _Optional[int] = ..., sku_nick: _Optional[str] = ...) -> None: ...

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

class PropertyInputType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

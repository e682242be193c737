from buf.validate import validate_pb2 as _validate_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
SELLER_ADDRESS_TYPE_RETURN: SellerAddressType
SELLER_ADDRESS_TYPE_SHIP_FROM: SellerAddressType
SELLER_ADDRESS_TYPE_UNSPECIFIED: SellerAddressType

class CancelWaybillRequest(_message.Message):
    __slots__ = ["express_company_code", "open_id", "request_id", "waybill_code"]
    EXPRESS_COMPANY_CODE_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    WAYBILL_CODE_FIELD_NUMBER: _ClassVar[int]
    express_company_code: str
    open_id: str
    request_id: str
    waybill_code: str
    def __init__(self, open_id: _Optional[str] = ..., waybill_code: _Optional[str] = ..., express_company_code: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class CancelWaybillResponse(_message.Message):
    __slots__ = ["platform_request_id", "waybill_code"]
    PLATFORM_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    WAYBILL_CODE_FIELD_NUMBER: _ClassVar[int]
    platform_request_id: str
    waybill_code: str
    def __init__(self, waybill_code: _Optional[str] = ..., platform_request_id: _Optional[str] = ...) -> None: ...

class CreateWaybillsRequest(_message.Message):
    __slots__ = ["open_id", "packages", "request_id"]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    PACKAGES_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    open_id: str
    packages: _containers.RepeatedCompositeFieldContainer[WaybillPackage]
    request_id: str
    def __init__(self, open_id: _Optional[str] = ..., packages: _Optional[_Iterable[_Union[WaybillPackage, _Mapping]]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateWaybillsResponse(_message.Message):
    __slots__ = ["platform_request_id", "results"]
    PLATFORM_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    platform_request_id: str
    results: _containers.RepeatedCompositeFieldContainer[WaybillResult]
    def __init__(self, results: _Optional[_Iterable[_Union[WaybillResult, _Mapping]]] = ..., platform_request_id: _Optional[str] = ...) -> None: ...

class ExpressTemplate(_message.Message):
    __slots__ = ["name", "raw", "template_id"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    RAW_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    raw: str
    template_id: int
    def __init__(self, template_id: _Optional[int] = ..., name: _Optional[str] = ..., raw: _Optional[str] = ...) -> None: ...

class ListExpressTemplatesRequest(_message.Message):
    __slots__ = ["open_id", "page_size", "page_token", "used_only"]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    USED_ONLY_FIELD_NUMBER: _ClassVar[int]
    open_id: str
    page_size: int
    page_token: str
    used_only: bool
    def __init__(self, open_id: _Optional[str] = ..., used_only: bool = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListExpressTemplatesResponse(_message.Message):
    __slots__ = ["next_page_token", "templates", "total_size"]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    templates: _containers.RepeatedCompositeFieldContainer[ExpressTemplate]
    total_size: int
    def __init__(self, templates: _Optional[_Iterable[_Union[ExpressTemplate, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class ListSellerAddressesRequest(_message.Message):
    __slots__ = ["address_type", "open_id"]
    ADDRESS_TYPE_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    address_type: SellerAddressType
    open_id: str
    def __init__(self, open_id: _Optional[str] = ..., address_type: _Optional[_Union[SellerAddressType, str]] = ...) -> None: ...

class ListSellerAddressesResponse(_message.Message):
    __slots__ = ["addresses"]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    addresses: _containers.RepeatedCompositeFieldContainer[SellerAddress]
    def __init__(self, addresses: _Optional[_Iterable[_Union[SellerAddress, _Mapping]]] = ...) -> None: ...

class SellerAddress(_message.Message):
    __slots__ = ["address", "address_id", "address_type", "city", "consignee", "default_address", "district", "mobile", "province", "raw", "town"]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_TYPE_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    CONSIGNEE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    DISTRICT_FIELD_NUMBER: _ClassVar[int]
    MOBILE_FIELD_NUMBER: _ClassVar[int]
    PROVINCE_FIELD_NUMBER: _ClassVar[int]
    RAW_FIELD_NUMBER: _ClassVar[int]
    TOWN_FIELD_NUMBER: _ClassVar[int]
    address: str
    address_id: int
    address_type: SellerAddressType
    city: str
    consignee: str
    default_address: bool
    district: str
    mobile: str
    province: str
    raw: str
    town: str
    def __init__(self, address_id: _Optional[int] = ..., address_type: _Optional[_Union[SellerAddressType, str]] = ..., consignee: _Optional[str] = ..., mobile: _Optional[str] = ..., province: _Optional[str] = ..., city: _Optional[str] = ..., district: _Optional[str] = ..., town: _Optional[str] = ..., address: _Optional[str] = ..., default_address: bool = ..., raw: _Optional[str] = ...) -> None: ...

class Waybill(_message.Message):
    __slots__ = ["key", "package_code", "parent_waybill_code", "print_data", "signature", "version", "waybill_code"]
    KEY_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_CODE_FIELD_NUMBER: _ClassVar[int]
    PARENT_WAYBILL_CODE_FIELD_NUMBER: _ClassVar[int]
    PRINT_DATA_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    WAYBILL_CODE_FIELD_NUMBER: _ClassVar[int]
    key: str
    package_code: str
    parent_waybill_code: str
    print_data: str
    signature: str
    version: str
    waybill_code: str
    def __init__(self, waybill_code: _Optional[str] = ..., parent_waybill_code: _Optional[str] = ..., print_data: _Optional[str] = ..., signature: _Optional[str] = ..., package_code: _Optional[str] = ..., key: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class WaybillAddress(_message.Message):
    __slots__ = ["city", "detail_address", "district", "province", "street"]
    CITY_FIELD_NUMBER: _ClassVar[int]
    DETAIL_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    DISTRICT_FIELD_NUMBER: _ClassVar[int]
    PROVINCE_FIELD_NUMBER: _ClassVar[int]
    STREET_FIELD_NUMBER: _ClassVar[int]
    city: str
    detail_address: str
    district: str
    province: str
    street: str
    def __init__(self, province: _Optional[str] = ..., city: _Optional[str] = ..., district: _Optional[str] = ..., street: _Optional[str] = ..., detail_address: _Optional[str] = ...) -> None: ...

class WaybillContact(_message.Message):
    __slots__ = ["mobile", "name", "telephone"]
    MOBILE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TELEPHONE_FIELD_NUMBER: _ClassVar[int]
    mobile: str
    name: str
    telephone: str
    def __init__(self, name: _Optional[str] = ..., mobile: _Optional[str] = ..., telephone: _Optional[str] = ...) -> None: ...

class WaybillItem(_message.Message):
    __slots__ = ["quantity", "title"]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    quantity: int
    title: str
    def __init__(self, title: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class WaybillPackage(_message.Message):
    __slots__ = ["express_company_code", "express_product_code", "items", "net_site_code", "order_id", "package_code", "receiver", "receiver_address", "sender", "sender_address", "settle_account", "template_url", "total_package_quantity"]
    EXPRESS_COMPANY_CODE_FIELD_NUMBER: _ClassVar[int]
    EXPRESS_PRODUCT_CODE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NET_SITE_CODE_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_CODE_FIELD_NUMBER: _ClassVar[int]
    RECEIVER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    RECEIVER_FIELD_NUMBER: _ClassVar[int]
    SENDER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    SETTLE_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_URL_FIELD_NUMBER: _ClassVar[int]
    TOTAL_PACKAGE_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    express_company_code: str
    express_product_code: str
    items: _containers.RepeatedCompositeFieldContainer[WaybillItem]
    net_site_code: str
    order_id: int
    package_code: str
    receiver: WaybillContact
    receiver_address: WaybillAddress
    sender: WaybillContact
    sender_address: WaybillAddress
    settle_account: str
    template_url: str
    total_package_quantity: int
    def __init__(self, express_company_code: _Optional[str] = ..., order_id: _Optional[int] = ..., package_code: _Optional[str] = ..., total_package_quantity: _Optional[int] = ..., express_product_code: _Optional[str] = ..., settle_account: _Optional[str] = ..., net_site_code: _Optional[str] = ..., template_url: _Optional[str] = ..., sender: _Optional[_Union[WaybillContact, _Mapping]] = ..., sender_address: _Optional[_Union[WaybillAddress, _Mapping]] = ..., receiver: _Optional[_Union[WaybillContact, _Mapping]] = ..., receiver_address: _Optional[_Union[WaybillAddress, _Mapping]] = ..., items: _Optional[_Iterable[_Union[WaybillItem, _Mapping]]] = ...) -> None: ...

class WaybillResult(_message.Message):
    __slots__ = ["message", "raw", "success", "waybills"]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RAW_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    WAYBILLS_FIELD_NUMBER: _ClassVar[int]
    message: str
    raw: str
    success: bool
    waybills: _containers.RepeatedCompositeFieldContainer[Waybill]
    def __init__(self, success: bool = ..., message: _Optional[str] = ..., waybills: _Optional[_Iterable[_Union[Waybill, _Mapping]]] = ..., raw: _Optional[str] = ...) -> None: ...

class SellerAddressType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

from buf.validate import validate_pb2 as _validate_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetShopRequest(_message.Message):
    __slots__ = ["open_id"]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    open_id: str
    def __init__(self, open_id: _Optional[str] = ...) -> None: ...

class GetShopResponse(_message.Message):
    __slots__ = ["shop"]
    SHOP_FIELD_NUMBER: _ClassVar[int]
    shop: Shop
    def __init__(self, shop: _Optional[_Union[Shop, _Mapping]] = ...) -> None: ...

class Seller(_message.Message):
    __slots__ = ["avatar_url", "name", "raw", "seller_id"]
    AVATAR_URL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    RAW_FIELD_NUMBER: _ClassVar[int]
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    avatar_url: str
    name: str
    raw: str
    seller_id: int
    def __init__(self, seller_id: _Optional[int] = ..., name: _Optional[str] = ..., avatar_url: _Optional[str] = ..., raw: _Optional[str] = ...) -> None: ...

class Shop(_message.Message):
    __slots__ = ["name", "open_id", "raw", "seller", "shop_type"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OPEN_ID_FIELD_NUMBER: _ClassVar[int]
    RAW_FIELD_NUMBER: _ClassVar[int]
    SELLER_FIELD_NUMBER: _ClassVar[int]
    SHOP_TYPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    open_id: str
    raw: str
    seller: Seller
    shop_type: int
    def __init__(self, open_id: _Optional[str] = ..., name: _Optional[str] = ..., shop_type: _Optional[int] = ..., seller: _Optional[_Union[Seller, _Mapping]] = ..., raw: _Optional[str] = ...) -> None: ...

#!/usr/bin/env python3
"""kwaishop-gateway from Python over gRPC: list a shop's orders, call a
platform API through PlatformService.Call, and handle NOT_FOUND,
INVALID_ARGUMENT and RESOURCE_EXHAUSTED with the decoded ErrorInfo reason,
BadRequest field violations and RetryInfo delay.

    go run ./cmd/server                      # sandbox + embedded NATS
    python3 clients/python/example.py        # Debian: python3-grpcio python3-protobuf

Settings (environment): KWAISHOP_GATEWAY_GRPC (default 127.0.0.1:9090),
KWAISHOP_API_KEY (when the gateway has KWAISHOP_API_KEYS), KWAISHOP_OPEN_ID
(default: the first active authorization), KWAISHOP_LIMITED_METHOD (the
platform API the RESOURCE_EXHAUSTED part calls twice; default
open.user.seller.get). To see a client-side limit refuse the second call,
start the server with KWAISHOP_API_QPS_OVERRIDES=open.user.seller.get=0.001.
"""

import json
import os
import sys

import grpc
from google.protobuf import json_format

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # run from a checkout without installing
import kwaishop_gateway as kg  # noqa: E402


def first_active_shop(channel: grpc.Channel) -> str:
    authz = kg.authorization_pb2_grpc.AuthorizationServiceStub(channel)
    resp = authz.ListAuthorizations(
        kg.authorization_pb2.ListAuthorizationsRequest(status=kg.authorization_pb2.AUTHORIZATION_STATUS_ACTIVE),
        timeout=10,
    )
    if not resp.authorizations:
        sys.exit("no active authorization: authorize a shop first (the sandbox server does it at start)")
    return resp.authorizations[0].open_id


def list_orders(channel: grpc.Channel, open_id: str) -> None:
    orders = kg.order_pb2_grpc.OrderServiceStub(channel)
    # Default range: the last 7 days by create time.
    resp = orders.ListOrders(kg.order_pb2.ListOrdersRequest(open_id=open_id, page_size=5), timeout=30)
    print(f"orders: {len(resp.orders)} (more: {bool(resp.next_page_token)})")
    for o in resp.orders:
        print(
            f"order {o.order_id} {kg.order_pb2.OrderStatus.Name(o.status)} "
            f"total_fen={o.total_fen} created={o.create_time.ToJsonString()} item={o.item.title!r}"
        )


def call_shop_info(channel: grpc.Channel, open_id: str) -> None:
    platform = kg.platform_pb2_grpc.PlatformServiceStub(channel)
    resp = platform.Call(kg.platform_pb2.CallRequest(open_id=open_id, method="open.shop.info.get"), timeout=30)
    data = json_format.MessageToDict(resp.data)
    print(f"call open.shop.info.get: result={resp.result} request_id={resp.request_id} data={json.dumps(data, ensure_ascii=False)}")


def exact_ids(channel: grpc.Channel, open_id: str) -> None:
    """Platform ids reach 2^53 and beyond (order item ids ~2.6e16): send them in
    params_json (as written) and read them from body_json (the platform's answer
    verbatim); Python's json keeps integers exact."""
    orders = kg.order_pb2_grpc.OrderServiceStub(channel)
    typed = orders.ListOrders(kg.order_pb2.ListOrdersRequest(open_id=open_id, page_size=1), timeout=30)
    if not typed.orders:
        print("exact ids: the shop has no order in the last 7 days")
        return
    order_id = typed.orders[0].order_id
    platform = kg.platform_pb2_grpc.PlatformServiceStub(channel)
    resp = platform.Call(
        kg.platform_pb2.CallRequest(open_id=open_id, method="open.order.detail", params_json=json.dumps({"oid": order_id})),
        timeout=30,
    )
    oid = int(json.loads(resp.body_json).get("data", {}).get("orderBaseInfo", {}).get("oid", 0))
    print(f"exact ids: order_id={order_id} call oid={oid} equal={'true' if oid == order_id else 'false'}")


def not_found(channel: grpc.Channel) -> None:
    orders = kg.order_pb2_grpc.OrderServiceStub(channel)
    try:
        orders.ListOrders(kg.order_pb2.ListOrdersRequest(open_id="no-such-shop"), timeout=10)
        print("NOT_FOUND expected, the call passed")
    except grpc.RpcError as err:
        e = kg.decode_error(err)
        if e.code != grpc.StatusCode.NOT_FOUND:
            raise
        print(f"NOT_FOUND reason={e.reason} domain={e.domain} message={e.message!r}")


def invalid_argument(channel: grpc.Channel, open_id: str) -> None:
    orders = kg.order_pb2_grpc.OrderServiceStub(channel)
    try:
        orders.ListOrders(kg.order_pb2.ListOrdersRequest(open_id=open_id, page_size=1000), timeout=10)
        print("INVALID_ARGUMENT expected, the call passed")
    except grpc.RpcError as err:
        e = kg.decode_error(err)
        if e.code != grpc.StatusCode.INVALID_ARGUMENT:
            raise
        fields = ", ".join(f"{f}: {d}" for f, d in e.field_violations)
        print(f"INVALID_ARGUMENT reason={e.reason} field_violations=[{fields}]")


def resource_exhausted(channel: grpc.Channel, open_id: str, method: str) -> None:
    platform = kg.platform_pb2_grpc.PlatformServiceStub(channel)
    for attempt in (1, 2):
        try:
            platform.Call(kg.platform_pb2.CallRequest(open_id=open_id, method=method), timeout=30)
            print(f"call {method} #{attempt}: ok")
        except grpc.RpcError as err:
            e = kg.decode_error(err)
            if e.code not in (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE):
                raise
            # RESOURCE_EXHAUSTED: a client-side QPS limit or a daily quota;
            # UNAVAILABLE: the platform's own QPS limit or an open circuit
            # breaker. Either way RetryInfo says how long to wait.
            delay = "none" if e.retry_delay is None else f"{e.retry_delay.total_seconds():g}s"
            print(
                f"{e.code.name} reason={e.reason} retry_delay={delay} "
                f"limit={e.metadata.get('limit', '-')} method={e.metadata.get('method', '-')}"
            )
            return
    print(f"no limit refused {method} (start the server with KWAISHOP_API_QPS_OVERRIDES={method}=0.001 to see one)")


def main() -> None:
    target = os.environ.get("KWAISHOP_GATEWAY_GRPC", "127.0.0.1:9090")
    with kg.connect(target, api_key=os.environ.get("KWAISHOP_API_KEY")) as channel:
        open_id = os.environ.get("KWAISHOP_OPEN_ID") or first_active_shop(channel)
        print(f"shop open_id={open_id}")
        list_orders(channel, open_id)
        call_shop_info(channel, open_id)
        exact_ids(channel, open_id)
        not_found(channel)
        invalid_argument(channel, open_id)
        resource_exhausted(channel, open_id, os.environ.get("KWAISHOP_LIMITED_METHOD", "open.user.seller.get"))


if __name__ == "__main__":
    main()

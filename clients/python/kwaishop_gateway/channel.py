"""A gRPC channel to the gateway, with the API key on every call."""

from __future__ import annotations

import collections
from typing import Optional

import grpc


class _CallDetails(
    collections.namedtuple(
        "_CallDetails", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")
    ),
    grpc.ClientCallDetails,
):
    pass


class _BearerInterceptor(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds ``authorization: Bearer <api key>`` to every call's metadata."""

    def __init__(self, api_key: str) -> None:
        self._header = ("authorization", "Bearer " + api_key)

    def _details(self, d: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        metadata = list(d.metadata or [])
        metadata.append(self._header)
        return _CallDetails(
            d.method,
            d.timeout,
            metadata,
            d.credentials,
            getattr(d, "wait_for_ready", None),
            getattr(d, "compression", None),
        )

    def intercept_unary_unary(self, continuation, client_call_details, request):
        return continuation(self._details(client_call_details), request)

    def intercept_unary_stream(self, continuation, client_call_details, request):
        return continuation(self._details(client_call_details), request)

    def intercept_stream_unary(self, continuation, client_call_details, request_iterator):
        return continuation(self._details(client_call_details), request_iterator)

    def intercept_stream_stream(self, continuation, client_call_details, request_iterator):
        return continuation(self._details(client_call_details), request_iterator)


def connect(
    target: str = "127.0.0.1:9090",
    *,
    api_key: Optional[str] = None,
    tls: bool = False,
    root_certificates: Optional[bytes] = None,
) -> grpc.Channel:
    """Open a channel to the gateway's gRPC port.

    ``api_key`` is one of the secrets of KWAISHOP_API_KEYS (none is needed
    when the gateway runs without keys on loopback). ``tls`` uses the
    system's roots or ``root_certificates`` (PEM) when the gateway serves
    TLS (KWAISHOP_TLS_CERT). Close the channel when done.
    """
    if tls or root_certificates is not None:
        channel = grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=root_certificates))
    else:
        channel = grpc.insecure_channel(target)
    if api_key:
        channel = grpc.intercept_channel(channel, _BearerInterceptor(api_key))
    return channel

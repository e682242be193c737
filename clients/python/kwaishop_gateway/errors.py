"""Decode the gateway's error details from a grpc.RpcError.

Every error status the gateway returns carries a google.rpc.Status in the
``grpc-status-details-bin`` trailer with a google.rpc.ErrorInfo (``reason``
from the ErrorReason enum in kwaishop/gateway/v1/errors.proto, ``domain``
``kwaixiaodian.com`` for errors the platform reported and
``kwaishop-gateway`` for the gateway's own, and string ``metadata``), a
google.rpc.RetryInfo when waiting helps (rate limits, quotas, an open circuit
breaker) and a google.rpc.BadRequest with field violations for an invalid
request.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Dict, List, Optional, Tuple

import grpc
from google.rpc import error_details_pb2, status_pb2

from kwaishop.gateway.v1 import errors_pb2

STATUS_DETAILS_KEY = "grpc-status-details-bin"


@dataclasses.dataclass(frozen=True)
class GatewayError:
    """One gateway error, decoded."""

    code: grpc.StatusCode
    message: str
    reason: str = ""
    """ErrorInfo.reason, for example ``ERROR_REASON_RATE_LIMITED``; "" without ErrorInfo."""
    domain: str = ""
    metadata: Dict[str, str] = dataclasses.field(default_factory=dict)
    retry_delay: Optional[datetime.timedelta] = None
    """RetryInfo.retry_delay: wait at least this long before retrying; None without RetryInfo."""
    field_violations: List[Tuple[str, str]] = dataclasses.field(default_factory=list)
    """BadRequest field violations as (field, description)."""

    @property
    def error_reason(self) -> int:
        """The reason as an ErrorReason enum value (ERROR_REASON_UNSPECIFIED when unknown)."""
        try:
            return errors_pb2.ErrorReason.Value(self.reason)
        except ValueError:
            return errors_pb2.ERROR_REASON_UNSPECIFIED

    def __str__(self) -> str:
        s = f"{self.code.name} {self.reason or '-'}: {self.message}"
        if self.retry_delay is not None:
            s += f" (retry in {self.retry_delay.total_seconds():g}s)"
        return s


def decode_error(err: grpc.RpcError) -> GatewayError:
    """Decode ``err`` (as raised by a stub call) into a GatewayError.

    An error without status details (for example a connection failure raised
    by the gRPC library itself) gives a GatewayError with only code and
    message set.
    """
    code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    message = err.details() if hasattr(err, "details") else str(err)
    raw = None
    trailers = err.trailing_metadata() if hasattr(err, "trailing_metadata") else None
    for key, value in trailers or ():
        if key == STATUS_DETAILS_KEY:
            raw = value
            break
    if raw is None:
        return GatewayError(code=code, message=message or "")

    st = status_pb2.Status.FromString(raw)
    reason, domain, metadata = "", "", {}
    retry_delay = None
    violations: List[Tuple[str, str]] = []
    for any_detail in st.details:
        if any_detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            any_detail.Unpack(info)
            reason, domain, metadata = info.reason, info.domain, dict(info.metadata)
        elif any_detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            ri = error_details_pb2.RetryInfo()
            any_detail.Unpack(ri)
            retry_delay = ri.retry_delay.ToTimedelta()
        elif any_detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            br = error_details_pb2.BadRequest()
            any_detail.Unpack(br)
            violations.extend((v.field, v.description) for v in br.field_violations)
    return GatewayError(
        code=code,
        message=st.message or message or "",
        reason=reason,
        domain=domain,
        metadata=metadata,
        retry_delay=retry_delay,
        field_violations=violations,
    )

// Decoding the gateway's error details from a gRPC error.
//
// Every error status the gateway returns carries a google.rpc.Status
// (grpc-status-details-bin) with a google.rpc.ErrorInfo: `reason` from the
// ErrorReason enum (kwaishop/gateway/v1/errors.proto), `domain`
// "kwaixiaodian.com" for errors the platform reported and "kwaishop-gateway"
// for the gateway's own, and string `metadata`. A google.rpc.RetryInfo comes
// with errors that pass after waiting (rate limits, quotas, an open circuit
// breaker), a google.rpc.BadRequest with field violations for an invalid
// request. Connect's gRPC transport parses the Status; this picks the details.
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema } from "./gen/google/rpc/error_details_pb.js";
import { ErrorReason, ErrorReasonSchema } from "./gen/kwaishop/gateway/v1/errors_pb.js";

/** One gateway error, decoded. */
export interface GatewayError {
  /** The gRPC status code. */
  code: Code;
  /** The gRPC name of the code, for example `RESOURCE_EXHAUSTED`. */
  codeName: string;
  message: string;
  /** ErrorInfo.reason, for example `ERROR_REASON_RATE_LIMITED`; "" without ErrorInfo. */
  reason: string;
  /** The reason as an ErrorReason value (UNSPECIFIED when unknown). */
  errorReason: ErrorReason;
  /** ErrorInfo.domain: `kwaixiaodian.com` (the platform) or `kwaishop-gateway`. */
  domain: string;
  metadata: Record<string, string>;
  /** RetryInfo.retry_delay in milliseconds: wait at least this long; undefined without RetryInfo. */
  retryDelayMs: number | undefined;
  /** BadRequest field violations. */
  fieldViolations: { field: string; description: string }[];
  /** The error as Connect raised it. */
  cause: ConnectError;
}

const grpcCodeNames: Record<Code, string> = {
  [Code.Canceled]: "CANCELLED",
  [Code.Unknown]: "UNKNOWN",
  [Code.InvalidArgument]: "INVALID_ARGUMENT",
  [Code.DeadlineExceeded]: "DEADLINE_EXCEEDED",
  [Code.NotFound]: "NOT_FOUND",
  [Code.AlreadyExists]: "ALREADY_EXISTS",
  [Code.PermissionDenied]: "PERMISSION_DENIED",
  [Code.ResourceExhausted]: "RESOURCE_EXHAUSTED",
  [Code.FailedPrecondition]: "FAILED_PRECONDITION",
  [Code.Aborted]: "ABORTED",
  [Code.OutOfRange]: "OUT_OF_RANGE",
  [Code.Unimplemented]: "UNIMPLEMENTED",
  [Code.Internal]: "INTERNAL",
  [Code.Unavailable]: "UNAVAILABLE",
  [Code.DataLoss]: "DATA_LOSS",
  [Code.Unauthenticated]: "UNAUTHENTICATED",
};

/**
 * decodeError turns whatever a client call threw into a GatewayError. An
 * error without details (for example a refused connection) gives only code
 * and message.
 */
export function decodeError(err: unknown): GatewayError {
  const ce = ConnectError.from(err);
  const info = ce.findDetails(ErrorInfoSchema)[0];
  const retry = ce.findDetails(RetryInfoSchema)[0];
  const reason = info?.reason ?? "";
  let retryDelayMs: number | undefined;
  if (retry?.retryDelay) {
    retryDelayMs = Number(retry.retryDelay.seconds) * 1000 + retry.retryDelay.nanos / 1e6;
  }
  return {
    code: ce.code,
    codeName: grpcCodeNames[ce.code] ?? String(ce.code),
    message: ce.rawMessage,
    reason,
    errorReason: (ErrorReasonSchema.values.find((v) => v.name === reason)?.number ??
      ErrorReason.UNSPECIFIED) as ErrorReason,
    domain: info?.domain ?? "",
    metadata: { ...(info?.metadata ?? {}) },
    retryDelayMs,
    fieldViolations: ce
      .findDetails(BadRequestSchema)
      .flatMap((br) => br.fieldViolations.map((v) => ({ field: v.field, description: v.description }))),
    cause: ce,
  };
}

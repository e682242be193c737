package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/commerce"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// WriteStore keeps the first result of each write (implemented by
// *store.Idempotency).
type WriteStore interface {
	Claim(ctx context.Context, key, fingerprint string) (store.WriteRecord, uint64, bool, error)
	Complete(ctx context.Context, key string, rev uint64, claim store.WriteRecord, result []byte) error
	Release(ctx context.Context, key string, rev uint64) error
	Wait(ctx context.Context, key string, staleAfter time.Duration) (store.WriteRecord, bool, error)
}

var _ WriteStore = (*store.Idempotency)(nil)

// ReplayHeader is set (value "true") on the response header of a write
// answered from the idempotency store; REST callers see it as
// X-Kwaishop-Idempotent-Replay.
const ReplayHeader = "x-kwaishop-idempotent-replay"

// maxWaitRounds bounds how often a duplicate re-claims a write whose owner
// released it.
const maxWaitRounds = 3

// writeRequest is any commerce write: it names the shop and carries an
// AIP-155 request_id.
type writeRequest interface {
	shopRequest
	GetRequestId() string
}

// storedResult is what the idempotency store keeps for a finished write:
// the response, or the error status the first caller got.
type storedResult struct {
	Response []byte `json:"response,omitempty"` // proto wire format
	Status   []byte `json:"status,omitempty"`   // google.rpc.Status, proto wire format
}

// write runs a write RPC once per (shop, rpc, request_id):
//
//  1. The request minus request_id is hashed (deterministic proto
//     encoding) into a fingerprint.
//  2. The key shop.rpc.request_id is claimed with KV Create; of concurrent
//     duplicates exactly one wins.
//  3. The winner calls the platform (never retried) and stores the result:
//     the response, or the error status when the platform answered for sure
//     (a business refusal) or the outcome is unknown (the request may have
//     been applied). When the platform certainly did not act and a retry may
//     succeed (rate limit, quota, token or authorization trouble, a
//     transport failure before sending), the claim is released instead, so
//     a retry with the same request_id runs again.
//  4. A duplicate with the same fingerprint gets the stored result (after
//     waiting for a pending one); with another fingerprint it gets
//     INVALID_ARGUMENT on request_id.
//
// call sends the write for req to the platform view of req's shop.
func write[Req writeRequest, Resp proto.Message](ctx context.Context, b *commerceBase, rpc string, req Req,
	call func(context.Context, commerce.Shop) (Resp, error)) (Resp, error) {
	var zero Resp
	fp, err := fingerprint(req)
	if err != nil {
		return zero, b.status(ctx, err)
	}
	key, err := store.WriteKey(req.GetOpenId(), rpc, req.GetRequestId())
	if err != nil {
		return zero, InvalidArgument(FieldViolation{Field: "request_id", Description: "must match [A-Za-z0-9_-]+"})
	}
	for range maxWaitRounds {
		rec, rev, claimed, err := b.cfg.Writes.Claim(ctx, key, fp)
		if err != nil {
			return zero, storeStatus(ctx, b, err)
		}
		if claimed {
			return runClaimed(ctx, b, key, rev, rec, req.GetOpenId(), call)
		}
		if rec.Fingerprint != fp {
			return zero, reusedRequestID()
		}
		if rec.State == store.WritePending {
			var found bool
			rec, found, err = b.cfg.Writes.Wait(ctx, key, b.cfg.PendingTimeout)
			if err != nil {
				if ctx.Err() != nil {
					return zero, ToStatus(ctx, b.cfg.Log, ctx.Err())
				}
				return zero, storeStatus(ctx, b, err)
			}
			if !found {
				continue // released by its owner: claim again
			}
			if rec.Fingerprint != fp {
				return zero, reusedRequestID()
			}
			if rec.State == store.WritePending {
				return zero, gatewayStatus(codes.Aborted, gatewayv1.ErrorReason_ERROR_REASON_INTERNAL,
					"an earlier request with this request_id did not finish; its outcome is unknown: check the resource, then retry with a new request_id", nil)
			}
		}
		return replay[Resp](ctx, b, rec)
	}
	return zero, gatewayStatus(codes.Aborted, gatewayv1.ErrorReason_ERROR_REASON_INTERNAL,
		"concurrent requests with this request_id keep failing; retry later", nil)
}

func reusedRequestID() error {
	return InvalidArgument(FieldViolation{Field: "request_id",
		Description: "was already used with different arguments in the last 24 hours; use a new request_id"})
}

// runClaimed calls the platform as the owner of the write and records the
// outcome.
func runClaimed[Resp proto.Message](ctx context.Context, b *commerceBase, key string, rev uint64,
	claim store.WriteRecord, openID string, call func(context.Context, commerce.Shop) (Resp, error)) (Resp, error) {
	var zero Resp
	// The outcome is recorded even when the caller goes away.
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	shop, err := b.shop(ctx, openID)
	if err != nil { // nothing was sent
		b.release(bg, key, rev)
		return zero, b.status(ctx, err)
	}
	resp, err := call(ctx, shop)
	if err == nil {
		raw, merr := proto.Marshal(resp)
		if merr == nil {
			merr = b.complete(bg, key, rev, claim, storedResult{Response: raw})
		}
		if merr != nil {
			b.cfg.Log.WarnContext(ctx, "idempotency: result not stored; a retry will be refused as unknown", "rpc", key, "err", merr)
		}
		return resp, nil
	}
	if notApplied(err) {
		b.release(bg, key, rev)
		return zero, b.status(ctx, err)
	}
	st := b.status(ctx, err)
	if ctx.Err() != nil && !isPlatformError(err) {
		// The caller left while the call was in flight: whether the
		// platform acted is unknown.
		st = gatewayStatus(codes.Aborted, gatewayv1.ErrorReason_ERROR_REASON_INTERNAL,
			"the first request with this request_id was cancelled in flight; its outcome is unknown: check the resource, then retry with a new request_id", nil)
	}
	if err := b.complete(bg, key, rev, claim, storedResult{Status: statusBytes(st)}); err != nil {
		b.cfg.Log.WarnContext(ctx, "idempotency: error result not stored", "rpc", key, "err", err)
	}
	return zero, st
}

// notApplied reports whether err certainly left the platform untouched and
// a later retry of the same request may succeed.
func notApplied(err error) bool {
	var pe *platform.Error
	if !errors.As(err, &pe) {
		// Not a platform answer: a token source failure (nothing sent) or
		// an ended context (outcome unknown).
		return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
	}
	switch pe.Class {
	case platform.ClassRateLimit, platform.ClassQuota, platform.ClassAuth, platform.ClassRevoked, platform.ClassSignature:
		return true
	case platform.ClassUpstream:
		return !pe.MayHaveApplied
	}
	return errors.Is(err, platform.ErrInvalidRequest)
}

func isPlatformError(err error) bool {
	var pe *platform.Error
	return errors.As(err, &pe)
}

func (b *commerceBase) release(ctx context.Context, key string, rev uint64) {
	if err := b.cfg.Writes.Release(ctx, key, rev); err != nil {
		b.cfg.Log.WarnContext(ctx, "idempotency: claim not released", "rpc", key, "err", err)
	}
}

func (b *commerceBase) complete(ctx context.Context, key string, rev uint64, claim store.WriteRecord, r storedResult) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return b.cfg.Writes.Complete(ctx, key, rev, claim, raw)
}

// replay answers a duplicate from the stored result.
func replay[Resp proto.Message](ctx context.Context, b *commerceBase, rec store.WriteRecord) (Resp, error) {
	var zero Resp
	var r storedResult
	if err := json.Unmarshal(rec.Result, &r); err != nil {
		return zero, storeStatus(ctx, b, err)
	}
	_ = grpc.SetHeader(ctx, metadata.Pairs(ReplayHeader, "true"))
	if r.Status != nil {
		var s spb.Status
		if err := proto.Unmarshal(r.Status, &s); err != nil {
			return zero, storeStatus(ctx, b, err)
		}
		return zero, status.ErrorProto(&s)
	}
	resp := zero.ProtoReflect().New().Interface().(Resp)
	if err := proto.Unmarshal(r.Response, resp); err != nil {
		return zero, storeStatus(ctx, b, err)
	}
	return resp, nil
}

func statusBytes(err error) []byte {
	b, _ := proto.Marshal(status.Convert(err).Proto())
	return b
}

// storeStatus reports an idempotency store failure: the write was not
// attempted (or its result cannot be read), so the caller may retry.
func storeStatus(ctx context.Context, b *commerceBase, err error) error {
	b.cfg.Log.WarnContext(ctx, "idempotency store failed", "err", err)
	return gatewayStatus(codes.Unavailable, gatewayv1.ErrorReason_ERROR_REASON_INTERNAL,
		"the idempotency store is unavailable; retry with the same request_id", nil,
		&errdetails.RetryInfo{RetryDelay: durationpb.New(time.Second)})
}

// fingerprint hashes the request without its request_id (deterministic
// proto encoding), so a retry matches and any other argument does not.
func fingerprint(req writeRequest) (string, error) {
	m := proto.Clone(req)
	fd := m.ProtoReflect().Descriptor().Fields().ByName("request_id")
	if fd != nil {
		m.ProtoReflect().Clear(fd)
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(append([]byte(m.ProtoReflect().Descriptor().FullName()+"\x00"), b...))
	return hex.EncodeToString(sum[:]), nil
}

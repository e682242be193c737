// Package commerce speaks the platform's commerce APIs (orders, items,
// after-sale, logistics, shop) in Go types: it builds each API's business
// parameters, sends the call, decodes the answer tolerantly (unknown
// members ignored, 64-bit ids exact, the platform JSON kept as Raw) into
// plain structs (ids int64, money in fen, times as time.Time, enums as
// small integer types), and hides the platform's list limits: the list
// methods return pages behind opaque page tokens, and the walks
// (WalkOrders, WalkRefunds) hand over a time range of any length window by
// window. The gRPC services and the message reconciler both use it; the
// proto messages are built at the service edge, not here.
//
// It knows nothing about gRPC status codes: request problems it detects are
// *FieldError (or wrap ErrPageToken), platform failures are the
// *platform.Error the client returned.
package commerce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
)

// Caller sends one platform API call (implemented by *platform.Client).
type Caller interface {
	Do(ctx context.Context, r *platform.Request) (*platform.Response, error)
}

// Shop sends calls on behalf of one authorized shop.
type Shop struct {
	Caller Caller
	OpenID string
	Token  platform.TokenSource
	// Now is the clock for default time ranges (nil: time.Now).
	Now func() time.Time
}

func (s Shop) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// ErrPageToken is wrapped by every page token problem: a token that does
// not decode, or one issued for a different request.
var ErrPageToken = errors.New("commerce: invalid page_token")

// FieldError is a request field the gateway refuses before calling the
// platform (a rule protovalidate cannot express, such as a time range
// relative to now). Field is the field's name in the gateway's API.
type FieldError struct {
	Field       string
	Description string
}

func (e *FieldError) Error() string { return "commerce: " + e.Field + ": " + e.Description }

// read sends a read call (the catalog's verb; reads may be retried by the
// client).
func (s Shop) read(ctx context.Context, method string, param any) (*platform.Response, error) {
	return s.send(ctx, method, "", param)
}

// write sends a write as POST whatever the catalog says, so the client
// never replays it after it may have reached the platform (the catalog
// lists open.express.ebill.cancel as GET, yet it cancels a waybill).
func (s Shop) write(ctx context.Context, method string, param any) (*platform.Response, error) {
	return s.send(ctx, method, http.MethodPost, param)
}

// writeID sends a write and returns the platform's request id.
func (s Shop) writeID(ctx context.Context, method string, param any) (string, error) {
	resp, err := s.write(ctx, method, param)
	if err != nil {
		return "", err
	}
	return resp.RequestID, nil
}

func (s Shop) send(ctx context.Context, method, verb string, param any) (*platform.Response, error) {
	b, err := json.Marshal(param)
	if err != nil {
		return nil, fmt.Errorf("commerce: %s: encoding param: %w", method, err)
	}
	return s.Caller.Do(ctx, &platform.Request{Method: method, Param: b, HTTPMethod: verb, OpenID: s.OpenID, Token: s.Token})
}

// decodeData decodes a response's data into v. Data of an unexpected shape
// (not the object or array the API documents) is an upstream failure,
// reported like any other platform error with the platform's request id.
func decodeData(resp *platform.Response, method string, v any) error {
	if err := decode(resp.Data, v); err != nil {
		return badData(resp, method, err)
	}
	return nil
}

func badData(resp *platform.Response, method string, err error) error {
	return &platform.Error{
		Method: method, Class: platform.ClassUpstream, RequestID: resp.RequestID, HTTPStatus: resp.HTTPStatus,
		Msg: "response data has an unexpected shape", Err: err,
	}
}

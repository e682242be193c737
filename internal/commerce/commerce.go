// Package commerce maps the platform's commerce APIs (orders, items,
// after-sale, logistics, shop; platform-protocol.md §6) to the gateway's
// typed messages: it builds each API's business parameters from a request,
// sends the call, decodes the answer tolerantly (unknown members ignored,
// 64-bit ids exact, the platform JSON kept as `raw`) and hides the
// platform's list limits behind AIP-158 page tokens, walking time windows
// and cursors for ListOrders and ListRefunds.
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
// relative to now).
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
// never replays it after it may have reached the platform (design
// decision 6: open.express.ebill.cancel is GET in the catalog).
func (s Shop) write(ctx context.Context, method string, param any) (*platform.Response, error) {
	return s.send(ctx, method, http.MethodPost, param)
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

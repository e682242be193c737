package service

import (
	"context"
	"errors"

	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/commerce"
)

// Security implements gatewayv1.SecurityServiceServer: receiver data
// decryption, masking and search indexes (docs/security-service.md). The
// values pass through memory only: nothing here logs or keeps them, and an
// entry's error carries the platform's errorMsg or the chunk's status
// message, never the entry's data.
type Security struct {
	gatewayv1.UnimplementedSecurityServiceServer
	base *commerceBase
}

var _ gatewayv1.SecurityServiceServer = (*Security)(nil)

// NewSecurity builds the security service on the commerce services' shared
// configuration (one upstream client, one token source per shop).
func NewSecurity(c *Commerce) *Security { return &Security{base: c.Order.base} }

// DecryptReceivers decrypts receiver ciphertexts, 100 a platform request.
func (s *Security) DecryptReceivers(ctx context.Context, req *gatewayv1.DecryptReceiversRequest) (*gatewayv1.DecryptReceiversResponse, error) {
	return read(ctx, s.base, req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.DecryptReceiversResponse, error) {
		in := ciphertexts(req.GetEntries())
		res := shop.DecryptReceivers(ctx, in)
		if err := logOrders(ctx, s.base.cfg.AccessLog, req.GetOpenId(), answeredOrders(in, res), "SecurityService.DecryptReceivers"); err != nil {
			return nil, err
		}
		return &gatewayv1.DecryptReceiversResponse{Results: s.receiverResults(ctx, in, res)}, nil
	})
}

// DesensitiseReceivers masks receiver ciphertexts, 100 a platform request.
func (s *Security) DesensitiseReceivers(ctx context.Context, req *gatewayv1.DesensitiseReceiversRequest) (*gatewayv1.DesensitiseReceiversResponse, error) {
	return read(ctx, s.base, req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.DesensitiseReceiversResponse, error) {
		in := ciphertexts(req.GetEntries())
		res := shop.DesensitiseReceivers(ctx, in)
		if err := logOrders(ctx, s.base.cfg.AccessLog, req.GetOpenId(), answeredOrders(in, res), "SecurityService.DesensitiseReceivers"); err != nil {
			return nil, err
		}
		return &gatewayv1.DesensitiseReceiversResponse{Results: s.receiverResults(ctx, in, res)}, nil
	})
}

// SearchIndex gets the search index strings of plaintext values, 100 a
// platform request.
func (s *Security) SearchIndex(ctx context.Context, req *gatewayv1.SearchIndexRequest) (*gatewayv1.SearchIndexResponse, error) {
	return read(ctx, s.base, req, func(ctx context.Context, shop commerce.Shop) (*gatewayv1.SearchIndexResponse, error) {
		in := make([]commerce.SearchInput, len(req.GetEntries()))
		for i, e := range req.GetEntries() {
			in[i] = commerce.SearchInput{Plaintext: e.GetPlaintext(), Field: commerce.ReceiverField(e.GetField())}
		}
		res := shop.SearchIndexes(ctx, in)
		if answered(res) {
			if err := logQuery(ctx, s.base.cfg.AccessLog, req.GetOpenId(), searchIndexData, "SecurityService.SearchIndex"); err != nil {
				return nil, err
			}
		}
		errs := s.entryErrors(ctx, res)
		out := &gatewayv1.SearchIndexResponse{Results: make([]*gatewayv1.SearchIndexResult, len(res))}
		for i, r := range res {
			out.Results[i] = &gatewayv1.SearchIndexResult{Field: gatewayv1.ReceiverField(in[i].Field), Error: errs[i]}
			if r.Err == nil {
				out.Results[i].SearchIndex = r.Value
			}
		}
		return out, nil
	})
}

func ciphertexts(entries []*gatewayv1.ReceiverCiphertext) []commerce.Ciphertext {
	out := make([]commerce.Ciphertext, len(entries))
	for i, e := range entries {
		out[i] = commerce.Ciphertext{OrderID: e.GetOrderId(), Ciphertext: e.GetCiphertext(), Field: commerce.ReceiverField(e.GetField())}
	}
	return out
}

// receiverResults converts the results of in to the API's, each value in
// the typed member of its field.
func (s *Security) receiverResults(ctx context.Context, in []commerce.Ciphertext, res []commerce.EntryResult) []*gatewayv1.ReceiverResult {
	errs := s.entryErrors(ctx, res)
	out := make([]*gatewayv1.ReceiverResult, len(res))
	for i, r := range res {
		out[i] = &gatewayv1.ReceiverResult{OrderId: in[i].OrderID, Field: gatewayv1.ReceiverField(in[i].Field), Error: errs[i]}
		if r.Err == nil {
			out[i].Value = receiverValue(in[i].Field, r.Value)
		}
	}
	return out
}

func receiverValue(f commerce.ReceiverField, v string) *gatewayv1.ReceiverValue {
	switch f {
	case commerce.ReceiverName:
		return &gatewayv1.ReceiverValue{Value: &gatewayv1.ReceiverValue_Name{Name: v}}
	case commerce.ReceiverPhone:
		return &gatewayv1.ReceiverValue{Value: &gatewayv1.ReceiverValue_Phone{Phone: v}}
	default:
		return &gatewayv1.ReceiverValue{Value: &gatewayv1.ReceiverValue_Address{Address: v}}
	}
}

// entryErrors maps each result's error: a platform refusal of the entry is
// INVALID_ARGUMENT with the platform's errorMsg; a failed platform request
// maps as any RPC's error would (ToStatus; mapped and logged once per
// platform request, whose entries share the error).
func (s *Security) entryErrors(ctx context.Context, res []commerce.EntryResult) []*gatewayv1.EntryError {
	out := make([]*gatewayv1.EntryError, len(res))
	chunks := map[int]*gatewayv1.EntryError{} // by platform request
	for i, r := range res {
		if r.Err == nil {
			continue
		}
		var ee *commerce.EntryError
		if errors.As(r.Err, &ee) {
			out[i] = &gatewayv1.EntryError{Code: code.Code_INVALID_ARGUMENT, Message: "the platform refused the entry: " + ee.Msg}
			continue
		}
		e, ok := chunks[i/commerce.SecurityBatchMax]
		if !ok {
			st := status.Convert(s.base.status(ctx, r.Err))
			c := st.Code()
			if c == codes.OK {
				c = codes.Unknown
			}
			e = &gatewayv1.EntryError{Code: code.Code(c), Message: st.Message()}
			chunks[i/commerce.SecurityBatchMax] = e
		}
		out[i] = e
	}
	return out
}

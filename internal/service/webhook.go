package service

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/auth"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/webhook"
)

// Webhook implements gatewayv1.WebhookServiceServer on the webhook engine.
type Webhook struct {
	gatewayv1.UnimplementedWebhookServiceServer
	engine *webhook.Engine
	log    *slog.Logger
}

var _ gatewayv1.WebhookServiceServer = (*Webhook)(nil)

// NewWebhook builds the WebhookService.
func NewWebhook(e *webhook.Engine, log *slog.Logger) *Webhook {
	return &Webhook{engine: e, log: log}
}

// webhookAllShops refuses keys limited to shops: an endpoint receives every
// shop's events (the authenticator refuses them first; this is the second
// lock).
func webhookAllShops(ctx context.Context) error {
	if k := auth.KeyFrom(ctx); k != nil && !k.AllShops() {
		return authStatus(&auth.Error{Code: codes.PermissionDenied, Key: k.Name,
			Msg: "API key \"" + k.Name + "\" is limited to shops: webhook endpoints span shops (use a key with shop=*)"})
	}
	return nil
}

// status maps engine errors; violations of endpoint fields are named as in
// the request (prefix "endpoint.").
func (s *Webhook) status(ctx context.Context, err error, prefix string) error {
	var inv *webhook.InvalidError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &inv):
		vs := make([]FieldViolation, 0, len(inv.Violations))
		for _, v := range inv.Violations {
			f := v.Field
			if !strings.HasPrefix(f, "update_mask") {
				f = prefix + f
			}
			vs = append(vs, FieldViolation{Field: f, Description: v.Description})
		}
		return InvalidArgument(vs...)
	case errors.Is(err, webhook.ErrNotFound):
		return status.Error(codes.NotFound, "no such webhook endpoint")
	case errors.Is(err, webhook.ErrTooMany):
		return status.Error(codes.FailedPrecondition, err.Error())
	}
	return ToStatus(ctx, s.log, err)
}

// CreateWebhookEndpoint stores an endpoint; the secret is in this answer only.
func (s *Webhook) CreateWebhookEndpoint(ctx context.Context, req *gatewayv1.CreateWebhookEndpointRequest) (*gatewayv1.CreateWebhookEndpointResponse, error) {
	if err := webhookAllShops(ctx); err != nil {
		return nil, err
	}
	ep, secret, err := s.engine.Create(ctx, webhookInput(req.GetEndpoint()))
	if err != nil {
		return nil, s.status(ctx, err, "endpoint.")
	}
	return &gatewayv1.CreateWebhookEndpointResponse{Endpoint: endpointProto(ep), Secret: secret}, nil
}

// ListWebhookEndpoints lists endpoints by id.
func (s *Webhook) ListWebhookEndpoints(ctx context.Context, req *gatewayv1.ListWebhookEndpointsRequest) (*gatewayv1.ListWebhookEndpointsResponse, error) {
	if err := webhookAllShops(ctx); err != nil {
		return nil, err
	}
	eps, next, err := s.engine.List(ctx, int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, s.status(ctx, err, "")
	}
	out := &gatewayv1.ListWebhookEndpointsResponse{NextPageToken: next}
	for _, e := range eps {
		out.Endpoints = append(out.Endpoints, endpointProto(e))
	}
	return out, nil
}

// GetWebhookEndpoint returns one endpoint.
func (s *Webhook) GetWebhookEndpoint(ctx context.Context, req *gatewayv1.GetWebhookEndpointRequest) (*gatewayv1.GetWebhookEndpointResponse, error) {
	if err := webhookAllShops(ctx); err != nil {
		return nil, err
	}
	ep, err := s.engine.Get(ctx, req.GetId())
	if err != nil {
		return nil, s.status(ctx, err, "")
	}
	return &gatewayv1.GetWebhookEndpointResponse{Endpoint: endpointProto(ep)}, nil
}

// UpdateWebhookEndpoint changes the masked fields.
func (s *Webhook) UpdateWebhookEndpoint(ctx context.Context, req *gatewayv1.UpdateWebhookEndpointRequest) (*gatewayv1.UpdateWebhookEndpointResponse, error) {
	if err := webhookAllShops(ctx); err != nil {
		return nil, err
	}
	ep, err := s.engine.Update(ctx, req.GetId(), webhookInput(req.GetEndpoint()), req.GetUpdateMask().GetPaths())
	if err != nil {
		return nil, s.status(ctx, err, "endpoint.")
	}
	return &gatewayv1.UpdateWebhookEndpointResponse{Endpoint: endpointProto(ep)}, nil
}

// DeleteWebhookEndpoint removes an endpoint.
func (s *Webhook) DeleteWebhookEndpoint(ctx context.Context, req *gatewayv1.DeleteWebhookEndpointRequest) (*gatewayv1.DeleteWebhookEndpointResponse, error) {
	if err := webhookAllShops(ctx); err != nil {
		return nil, err
	}
	if err := s.engine.Delete(ctx, req.GetId()); err != nil {
		return nil, s.status(ctx, err, "")
	}
	return &gatewayv1.DeleteWebhookEndpointResponse{}, nil
}

// RotateWebhookSecret makes a new secret; the old one signs during the grace.
func (s *Webhook) RotateWebhookSecret(ctx context.Context, req *gatewayv1.RotateWebhookSecretRequest) (*gatewayv1.RotateWebhookSecretResponse, error) {
	if err := webhookAllShops(ctx); err != nil {
		return nil, err
	}
	var grace *time.Duration
	if req.GetGrace() != nil {
		g := req.GetGrace().AsDuration()
		grace = &g
	}
	secret, prev, err := s.engine.Rotate(ctx, req.GetId(), grace)
	if err != nil {
		return nil, s.status(ctx, err, "")
	}
	return &gatewayv1.RotateWebhookSecretResponse{Secret: secret, PreviousSecretExpireTime: timestamp(prev)}, nil
}

// SendWebhookTestEvent sends one test event now.
func (s *Webhook) SendWebhookTestEvent(ctx context.Context, req *gatewayv1.SendWebhookTestEventRequest) (*gatewayv1.SendWebhookTestEventResponse, error) {
	if err := webhookAllShops(ctx); err != nil {
		return nil, err
	}
	r, err := s.engine.SendTest(ctx, req.GetId())
	if err != nil {
		return nil, s.status(ctx, err, "")
	}
	return &gatewayv1.SendWebhookTestEventResponse{
		WebhookId: r.WebhookID, Success: r.OK, StatusCode: int32(r.Status), Latency: durationpb.New(r.Latency), Error: r.Error,
	}, nil
}

// ListWebhookDeadLetters lists an endpoint's dead letters.
func (s *Webhook) ListWebhookDeadLetters(ctx context.Context, req *gatewayv1.ListWebhookDeadLettersRequest) (*gatewayv1.ListWebhookDeadLettersResponse, error) {
	if err := webhookAllShops(ctx); err != nil {
		return nil, err
	}
	dls, next, err := s.engine.DeadLetters(ctx, req.GetId(), int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, s.status(ctx, err, "")
	}
	out := &gatewayv1.ListWebhookDeadLettersResponse{NextPageToken: next}
	for _, d := range dls {
		out.DeadLetters = append(out.DeadLetters, webhookDeadLetterProto(d))
	}
	return out, nil
}

// RequeueWebhookDeadLetters delivers dead letters again.
func (s *Webhook) RequeueWebhookDeadLetters(ctx context.Context, req *gatewayv1.RequeueWebhookDeadLettersRequest) (*gatewayv1.RequeueWebhookDeadLettersResponse, error) {
	if err := webhookAllShops(ctx); err != nil {
		return nil, err
	}
	n, err := s.engine.Requeue(ctx, req.GetId(), req.GetDeadLetterIds(), req.GetAll())
	if err != nil {
		return nil, s.status(ctx, err, "")
	}
	return &gatewayv1.RequeueWebhookDeadLettersResponse{Requeued: int32(n)}, nil
}

// ReplayWebhookEvents delivers a time range again to one endpoint.
func (s *Webhook) ReplayWebhookEvents(ctx context.Context, req *gatewayv1.ReplayWebhookEventsRequest) (*gatewayv1.ReplayWebhookEventsResponse, error) {
	if err := webhookAllShops(ctx); err != nil {
		return nil, err
	}
	n, truncated, err := s.engine.Replay(ctx, req.GetId(), req.GetStartTime().AsTime(), timeOf(req.GetEndTime()))
	if err != nil {
		return nil, s.status(ctx, err, "")
	}
	return &gatewayv1.ReplayWebhookEventsResponse{Replayed: int32(n), Truncated: truncated}, nil
}

// GetWebhookStats reports per-endpoint delivery statistics.
func (s *Webhook) GetWebhookStats(ctx context.Context, req *gatewayv1.GetWebhookStatsRequest) (*gatewayv1.GetWebhookStatsResponse, error) {
	if err := webhookAllShops(ctx); err != nil {
		return nil, err
	}
	list, err := s.engine.Stats(ctx, req.GetId())
	if err != nil {
		return nil, s.status(ctx, err, "")
	}
	out := &gatewayv1.GetWebhookStatsResponse{}
	for _, st := range list {
		out.Endpoints = append(out.Endpoints, webhookStatsProto(st))
	}
	return out, nil
}

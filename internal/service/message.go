package service

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/auth"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/delivery"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/msglog"
)

// Message implements gatewayv1.MessageServiceServer on the message log and
// its consumer groups.
type Message struct {
	gatewayv1.UnimplementedMessageServiceServer
	log      *msglog.Log
	groups   *delivery.Groups
	logger   *slog.Logger
	shutdown <-chan struct{}
}

var _ gatewayv1.MessageServiceServer = (*Message)(nil)

// NewMessage builds the MessageService. Subscriptions end when shutdown is
// closed, so a graceful stop does not wait for subscribers to leave.
func NewMessage(l *msglog.Log, g *delivery.Groups, logger *slog.Logger, shutdown <-chan struct{}) *Message {
	return &Message{log: l, groups: g, logger: logger, shutdown: shutdown}
}

func (s *Message) status(ctx context.Context, err error) error {
	var inv *message.InvalidError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &inv):
		return InvalidArgument(FieldViolation{Field: inv.Field, Description: inv.Description})
	case errors.Is(err, delivery.ErrGroupConflict):
		return status.Error(codes.FailedPrecondition, err.Error())
	case errors.Is(err, delivery.ErrGroupNotFound):
		return status.Error(codes.NotFound, "no such consumer group")
	case errors.Is(err, msglog.ErrNotFound), errors.Is(err, delivery.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	}
	return ToStatus(ctx, s.logger, err)
}

// Subscribe runs one subscriber of a consumer group.
func (s *Message) Subscribe(stream gatewayv1.MessageService_SubscribeServer) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	open := first.GetOpen()
	if open == nil {
		return InvalidArgument(FieldViolation{Field: "open", Description: "the first message must open the subscription"})
	}
	sess, created, err := s.groups.Subscribe(ctx, groupOptions(open.GetGroup(), open.GetGroupOptions()), int(open.GetMaxInFlight()))
	if err != nil {
		return s.status(ctx, err)
	}
	if err := stream.Send(&gatewayv1.SubscribeResponse{Kind: &gatewayv1.SubscribeResponse_Subscribed{
		Subscribed: &gatewayv1.Subscribed{Group: sess.Group(), Created: created},
	}}); err != nil {
		return err
	}
	// Acknowledgements arrive on the same stream.
	recvErr := make(chan error, 1)
	go func() {
		for {
			req, err := stream.Recv()
			if err != nil {
				recvErr <- err
				cancel()
				return
			}
			ack := req.GetAck()
			if ack == nil {
				recvErr <- InvalidArgument(FieldViolation{Field: "open", Description: "a subscription is opened once"})
				cancel()
				return
			}
			if err := sess.Ack(ctx, ack.GetDeliveryIds(), ackKind(ack.GetKind()), ack.GetRedeliverDelay().AsDuration(), callerShops(ctx)); err != nil {
				recvErr <- s.status(ctx, err)
				cancel()
				return
			}
		}
	}()
	go func() {
		select {
		case <-s.shutdown:
			cancel()
		case <-ctx.Done():
		}
	}()
	runErr := sess.Run(ctx, func(d delivery.Delivery) error {
		return stream.Send(&gatewayv1.SubscribeResponse{Kind: &gatewayv1.SubscribeResponse_Delivery{Delivery: deliveryProto(d)}})
	})
	select {
	case err := <-recvErr:
		if errors.Is(err, io.EOF) || status.Code(err) == codes.Canceled {
			return nil // the client closed its side
		}
		return err
	default:
	}
	switch {
	case errors.Is(runErr, delivery.ErrGroupNotFound):
		return status.Error(codes.NotFound, "the consumer group was deleted")
	case runErr == nil, errors.Is(runErr, context.Canceled):
		select {
		case <-s.shutdown:
			return status.Error(codes.Unavailable, "server shutting down; subscribe again")
		default:
			return nil
		}
	}
	return s.status(ctx, runErr)
}

// PullMessages fetches deliveries for REST clients.
func (s *Message) PullMessages(ctx context.Context, req *gatewayv1.PullMessagesRequest) (*gatewayv1.PullMessagesResponse, error) {
	ds, err := s.groups.Pull(ctx, groupOptions(req.GetGroup(), req.GetGroupOptions()), int(req.GetMaxMessages()), req.GetWait().AsDuration())
	if err != nil {
		return nil, s.status(ctx, err)
	}
	return &gatewayv1.PullMessagesResponse{Deliveries: deliveryProtos(ds)}, nil
}

// callerShops limits acknowledgements to the shops of the caller's API key
// (nil with authentication off or a key for every shop). AckMessages names
// no shop, so the interceptor lets shop-limited keys call it; the shop of
// each delivery is sealed in its id and checked here instead.
func callerShops(ctx context.Context) delivery.ShopFilter {
	k := auth.KeyFrom(ctx)
	if k == nil || k.AllShops() {
		return nil
	}
	return k.AllowsShop
}

// AckMessages acknowledges deliveries by id. Any id the caller may not
// acknowledge (not issued by this gateway, altered, of a shop outside the
// caller's key, or of another group) refuses the whole request with
// InvalidArgument and a field violation on ack.delivery_ids[i], and nothing
// is acknowledged: the same all-or-nothing shape as for a malformed id. One
// code and one description for every such id, so the answer never tells a
// forged id from another shop's real one.
func (s *Message) AckMessages(ctx context.Context, req *gatewayv1.AckMessagesRequest) (*gatewayv1.AckMessagesResponse, error) {
	a := req.GetAck()
	n, err := s.groups.Ack(ctx, req.GetGroup(), a.GetDeliveryIds(), ackKind(a.GetKind()), a.GetRedeliverDelay().AsDuration(), callerShops(ctx))
	if err != nil {
		return nil, s.status(ctx, err)
	}
	return &gatewayv1.AckMessagesResponse{Acknowledged: int32(n)}, nil
}

// ListMessages lists stored messages.
func (s *Message) ListMessages(ctx context.Context, req *gatewayv1.ListMessagesRequest) (*gatewayv1.ListMessagesResponse, error) {
	msgs, next, err := s.log.List(ctx, msglog.Query{
		EventTypes: req.GetEventTypes(), OpenIDs: req.GetOpenIds(),
		Start: timeOf(req.GetStartTime()), End: timeOf(req.GetEndTime()),
		PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(),
	})
	if err != nil {
		return nil, s.status(ctx, err)
	}
	return &gatewayv1.ListMessagesResponse{Messages: messageProtos(msgs), NextPageToken: next}, nil
}

// GetMessage returns one message by event id.
func (s *Message) GetMessage(ctx context.Context, req *gatewayv1.GetMessageRequest) (*gatewayv1.GetMessageResponse, error) {
	m, err := s.log.Get(ctx, req.GetEventId())
	if err != nil {
		return nil, s.status(ctx, err)
	}
	return &gatewayv1.GetMessageResponse{Message: messageProto(m)}, nil
}

// ReplayMessages queues a time range again for one group.
func (s *Message) ReplayMessages(ctx context.Context, req *gatewayv1.ReplayMessagesRequest) (*gatewayv1.ReplayMessagesResponse, error) {
	n, err := s.groups.Replay(ctx, req.GetGroup(), timeOf(req.GetStartTime()), timeOf(req.GetEndTime()))
	if err != nil {
		return nil, s.status(ctx, err)
	}
	return &gatewayv1.ReplayMessagesResponse{Replayed: n}, nil
}

// ListDeadLetters lists dead letters.
func (s *Message) ListDeadLetters(ctx context.Context, req *gatewayv1.ListDeadLettersRequest) (*gatewayv1.ListDeadLettersResponse, error) {
	dls, next, err := s.groups.DeadLetters(ctx, req.GetGroup(), int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, s.status(ctx, err)
	}
	out := &gatewayv1.ListDeadLettersResponse{NextPageToken: next}
	for _, d := range dls {
		out.DeadLetters = append(out.DeadLetters, deadLetterProto(d))
	}
	return out, nil
}

// RequeueDeadLetter delivers a dead letter again to its group.
func (s *Message) RequeueDeadLetter(ctx context.Context, req *gatewayv1.RequeueDeadLetterRequest) (*gatewayv1.RequeueDeadLetterResponse, error) {
	group, err := s.groups.Requeue(ctx, req.GetId())
	if err != nil {
		return nil, s.status(ctx, err)
	}
	return &gatewayv1.RequeueDeadLetterResponse{Group: group}, nil
}

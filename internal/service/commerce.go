package service

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"google.golang.org/protobuf/proto"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/commerce"
)

// DefaultPendingTimeout is how long a duplicate write waits for the first
// one before it presumes the first one's replica gone (the outcome is then
// unknown). It exceeds any upstream call deadline.
const DefaultPendingTimeout = 2 * time.Minute

// CommerceConfig is what the typed commerce services (orders, items,
// after-sale, logistics, shop) share.
type CommerceConfig struct {
	Caller Caller     // required: the platform client
	Tokens Tokens     // required: per-shop token sources
	Writes WriteStore // required: the idempotency store (*store.Idempotency)
	Log    *slog.Logger
	// Now is the clock for default list ranges (nil: time.Now).
	Now func() time.Time
	// PendingTimeout: see DefaultPendingTimeout (0 selects it).
	PendingTimeout time.Duration
	// AccessLog records order reads for the security logs (nil: none).
	AccessLog AccessLog
}

// Validate reports every missing dependency.
func (c CommerceConfig) Validate() error {
	var errs []error
	if c.Caller == nil {
		errs = append(errs, errors.New("service: commerce: Caller is required"))
	}
	if c.Tokens == nil {
		errs = append(errs, errors.New("service: commerce: Tokens is required"))
	}
	if c.Writes == nil {
		errs = append(errs, errors.New("service: commerce: Writes is required"))
	}
	if c.PendingTimeout < 0 {
		errs = append(errs, errors.New("service: commerce: PendingTimeout must not be negative"))
	}
	return errors.Join(errs...)
}

// Commerce holds the five typed commerce services.
type Commerce struct {
	Order     *Order
	Item      *Item
	Refund    *Refund
	Logistics *Logistics
	Shop      *Shop
}

// NewCommerce builds the typed commerce services.
func NewCommerce(cfg CommerceConfig) (*Commerce, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PendingTimeout == 0 {
		cfg.PendingTimeout = DefaultPendingTimeout
	}
	b := &commerceBase{cfg: cfg}
	return &Commerce{
		Order:     &Order{base: b},
		Item:      &Item{base: b, rules: commerce.NewRuleCache(0, 0, cfg.Now)},
		Refund:    &Refund{base: b},
		Logistics: &Logistics{base: b},
		Shop:      &Shop{base: b},
	}, nil
}

// commerceBase is the shared body of the commerce services: it resolves
// the shop's token source, calls internal/commerce and maps errors. The
// services convert requests to commerce's Go types and the answers back to
// proto messages (convert.go).
type commerceBase struct{ cfg CommerceConfig }

// shop returns the platform view of an authorized shop.
func (b *commerceBase) shop(ctx context.Context, openID string) (commerce.Shop, error) {
	src, err := b.cfg.Tokens.Shop(ctx, openID)
	if err != nil {
		return commerce.Shop{}, err
	}
	return commerce.Shop{Caller: b.cfg.Caller, OpenID: openID, Token: src, Now: b.cfg.Now}, nil
}

// status maps an error of internal/commerce or below to a gRPC status.
func (b *commerceBase) status(ctx context.Context, err error) error {
	var fe *commerce.FieldError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return InvalidArgument(FieldViolation{Field: fe.Field, Description: fe.Description})
	case errors.Is(err, commerce.ErrPageToken):
		return InvalidArgument(FieldViolation{Field: "page_token", Description: err.Error()})
	}
	return ToStatus(ctx, b.cfg.Log, err)
}

// shopRequest is any commerce request: it names the shop.
type shopRequest interface {
	proto.Message
	GetOpenId() string
}

// read runs a read RPC (reads need no idempotency; the platform client
// retries them itself): call gets the platform view of req's shop.
func read[Req shopRequest, Resp any](ctx context.Context, b *commerceBase, req Req,
	call func(context.Context, commerce.Shop) (Resp, error)) (Resp, error) {
	var zero Resp
	shop, err := b.shop(ctx, req.GetOpenId())
	if err != nil {
		return zero, b.status(ctx, err)
	}
	resp, err := call(ctx, shop)
	if err != nil {
		return zero, b.status(ctx, err)
	}
	return resp, nil
}

// Order implements gatewayv1.OrderServiceServer.
type Order struct {
	gatewayv1.UnimplementedOrderServiceServer
	base *commerceBase
}

// Item implements gatewayv1.ItemServiceServer.
type Item struct {
	gatewayv1.UnimplementedItemServiceServer
	base  *commerceBase
	rules *commerce.RuleCache // categories' rules (item_publish.go)
}

// Refund implements gatewayv1.RefundServiceServer.
type Refund struct {
	gatewayv1.UnimplementedRefundServiceServer
	base *commerceBase
}

// Logistics implements gatewayv1.LogisticsServiceServer.
type Logistics struct {
	gatewayv1.UnimplementedLogisticsServiceServer
	base *commerceBase
}

// Shop implements gatewayv1.ShopServiceServer.
type Shop struct {
	gatewayv1.UnimplementedShopServiceServer
	base *commerceBase
}

var (
	_ gatewayv1.OrderServiceServer     = (*Order)(nil)
	_ gatewayv1.ItemServiceServer      = (*Item)(nil)
	_ gatewayv1.RefundServiceServer    = (*Refund)(nil)
	_ gatewayv1.LogisticsServiceServer = (*Logistics)(nil)
	_ gatewayv1.ShopServiceServer      = (*Shop)(nil)
)

package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// Error is a refused call: Code is codes.Unauthenticated (no key, a
// malformed header, an unknown key) or codes.PermissionDenied (a valid key
// outside its shops or groups). Its message says what to fix and never
// holds the secret.
type Error struct {
	Code codes.Code
	Key  string // the key's name when one was recognized
	Msg  string
}

func (e *Error) Error() string { return "auth: " + e.Msg }

// Refusal messages.
const (
	msgMissing   = "missing API key: send the header `authorization: Bearer <key>` (gRPC metadata or HTTP)"
	msgMalformed = "malformed authorization header: want `Bearer <key>`, once"
	msgUnknown   = "unknown API key"
)

// Config configures an Authenticator.
type Config struct {
	// Keys are the caller keys. With none, every call is allowed: the
	// server then only listens on loopback unless anonymous access was
	// explicitly enabled (config checks that).
	Keys *Keys
	// Status turns an *Error into the gRPC status returned (default: a
	// plain status with Error's code and message).
	Status func(ctx context.Context, err error) error
	Log    *slog.Logger // refusals at Info; default slog.Default()
	// ShopApp names the app of a shop, for keys limited to apps (app=):
	// without it such keys may act for no shop.
	ShopApp ShopApp
}

// Authenticator checks callers. It is safe for concurrent use.
type Authenticator struct {
	keys    *Keys
	status  func(context.Context, error) error
	log     *slog.Logger
	shopApp ShopApp
}

// New returns an Authenticator for cfg.
func New(cfg Config) *Authenticator {
	a := &Authenticator{keys: cfg.Keys, status: cfg.Status, log: cfg.Log, shopApp: cfg.ShopApp}
	if a.status == nil {
		a.status = func(_ context.Context, err error) error {
			var e *Error
			if errors.As(err, &e) {
				return status.Error(e.Code, e.Error())
			}
			return err
		}
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	return a
}

// Enabled reports whether calls need a key.
func (a *Authenticator) Enabled() bool { return a.keys.Len() > 0 }

type keyCtx struct{}

// KeyFrom returns the key that authenticated ctx's call (nil with
// authentication off or on open RPCs).
func KeyFrom(ctx context.Context) *Key { k, _ := ctx.Value(keyCtx{}).(*Key); return k }

// Open RPCs need no key: health checks (Kubernetes probes).
var openMethods = map[string]bool{
	"/grpc.health.v1.Health/Check": true,
	"/grpc.health.v1.Health/Watch": true,
	"/grpc.health.v1.Health/List":  true,
}

// Any valid key may call these (no group): server reflection.
var anyKeyServices = map[string]bool{
	"grpc.reflection.v1.ServerReflection":      true,
	"grpc.reflection.v1alpha.ServerReflection": true,
}

// serviceGroups maps each gateway service to its RPC group.
var serviceGroups = map[string]string{
	"kwaishop.gateway.v1.PlatformService":      "platform",
	"kwaishop.gateway.v1.AuthorizationService": "authorization",
	"kwaishop.gateway.v1.OrderService":         "orders",
	"kwaishop.gateway.v1.ItemService":          "items",
	"kwaishop.gateway.v1.RefundService":        "refunds",
	"kwaishop.gateway.v1.LogisticsService":     "logistics",
	"kwaishop.gateway.v1.ShopService":          "shop",
	"kwaishop.gateway.v1.MessageService":       "messages",
	"kwaishop.gateway.v1.StatsService":         "stats",
	"kwaishop.gateway.v1.WebhookService":       "webhooks",
	"kwaishop.gateway.v1.SecurityService":      GroupDecrypt,
	"kwaishop.gateway.v1.SecurityLogService":   "security-logs",
}

// methodGroups overrides serviceGroups for single RPCs.
var methodGroups = map[string]string{
	"/kwaishop.gateway.v1.AuthorizationService/RotateTokenKeys":   GroupAdmin,
	"/kwaishop.gateway.v1.AuthorizationService/GetAccessToken":    GroupAdmin, // if ever added: it would hand out raw tokens
	"/kwaishop.gateway.v1.WebhookService/GetWebhookStats":         "stats",    // read by the dashboard's stats key
	"/kwaishop.gateway.v1.SecurityLogService/GetSecurityLogStats": "stats",    // read by the dashboard's stats key
}

// allShopsServices act for every shop at once (a webhook endpoint receives
// every shop's events it subscribes to, whatever shops its request names):
// keys limited to shops may not call them at all (docs/webhooks.md).
var allShopsServices = map[string]bool{
	"kwaishop.gateway.v1.WebhookService": true,
}

// shopFree RPCs name no shop and expose no shop's data, so keys limited to
// shops may call them too. Every other RPC must name its shops (open_id,
// open_ids) for such keys: an RPC that spans shops (listing authorizations,
// statistics, messages without a shop filter) needs a key for all shops.
var shopFree = map[string]bool{
	"/kwaishop.gateway.v1.PlatformService/ListApis":   true,
	"/kwaishop.gateway.v1.PlatformService/GetApi":     true,
	"/kwaishop.gateway.v1.MessageService/AckMessages": true, // delivery ids the key was given
}

// Group is the RPC group of a full method name ("/pkg.Service/Method"), ""
// if none.
func Group(fullMethod string) string {
	if g, ok := methodGroups[fullMethod]; ok {
		return g
	}
	svc, _, _ := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	return serviceGroups[svc]
}

// authenticate finds the caller's key from ctx's metadata.
func (a *Authenticator) authenticate(ctx context.Context) (*Key, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	return a.fromHeader(md.Get("authorization"))
}

func (a *Authenticator) fromHeader(values []string) (*Key, error) {
	switch len(values) {
	case 0:
		return nil, &Error{Code: codes.Unauthenticated, Msg: msgMissing}
	case 1:
	default:
		return nil, &Error{Code: codes.Unauthenticated, Msg: msgMalformed}
	}
	scheme, secret, ok := strings.Cut(strings.TrimSpace(values[0]), " ")
	secret = strings.TrimSpace(secret)
	if !ok || !strings.EqualFold(scheme, "bearer") || secret == "" {
		return nil, &Error{Code: codes.Unauthenticated, Msg: msgMalformed}
	}
	if len(secret) > maxSecretLen {
		// No configured key is this long: refuse without hashing it.
		return nil, &Error{Code: codes.Unauthenticated, Msg: msgUnknown}
	}
	k := a.keys.Authenticate(secret)
	if k == nil {
		return nil, &Error{Code: codes.Unauthenticated, Msg: msgUnknown}
	}
	return k, nil
}

// authorize checks the RPC group of fullMethod; shops are checked per
// request message.
func authorize(k *Key, fullMethod string) error {
	svc, _, _ := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	if anyKeyServices[svc] {
		return nil
	}
	g := Group(fullMethod)
	if k.AllowsGroup(g) {
		return nil
	}
	what := "group " + g
	if g == "" {
		what = "no group: it needs a key with rpc=*"
	}
	return &Error{Code: codes.PermissionDenied, Key: k.Name,
		Msg: fmt.Sprintf("API key %q may not call %s (%s)", k.Name, strings.TrimPrefix(fullMethod, "/"), what)}
}

// errShopUnknown refuses a key limited to apps a shop outside its apps:
// the same answer as for a shop the gateway does not know (the service
// answers that one NotFound), so the key cannot tell another app's shops
// from no shop at all.
var errShopUnknown = fmt.Errorf("auth: %w", store.ErrNotFound)

// checkShops checks the shops and apps a request message names against k:
// a key limited to shops may name only its shops; a key limited to apps
// only their shops (others are unknown to it: errShopUnknown) and apps.
// Such keys must name the shops (or, limited to apps only, the app) of an
// RPC that would span them.
func (a *Authenticator) checkShops(ctx context.Context, k *Key, fullMethod string, req any, first bool) error {
	if k.AllShops() {
		return nil
	}
	if svc, _, _ := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/"); allShopsServices[svc] {
		return &Error{Code: codes.PermissionDenied, Key: k.Name,
			Msg: fmt.Sprintf("API key %q is limited to shops or apps: %s acts for every shop (use a key with shop=* and app=*)", k.Name, strings.TrimPrefix(fullMethod, "/"))}
	}
	m, ok := req.(proto.Message)
	if !ok {
		return nil
	}
	var shops, apps []string
	named := collectShops(m.ProtoReflect(), &shops, 0)
	for _, s := range shops {
		if k.shops != nil && !k.shops[s] {
			return &Error{Code: codes.PermissionDenied, Key: k.Name,
				Msg: fmt.Sprintf("API key %q may not act for shop %q", k.Name, s)}
		}
	}
	appNamed := false
	if !k.AllApps() {
		appNamed = collectApps(m.ProtoReflect(), &apps, 0)
		for _, app := range apps {
			if !k.AllowsApp(app) {
				return &Error{Code: codes.PermissionDenied, Key: k.Name,
					Msg: fmt.Sprintf("API key %q may not act for app %q", k.Name, app)}
			}
		}
		for _, s := range shops {
			if err := a.checkShopApp(ctx, k, s); err != nil {
				return err
			}
		}
	}
	if named || (appNamed && k.shops == nil) || !first || shopFree[fullMethod] {
		return nil
	}
	if k.shops == nil {
		return &Error{Code: codes.PermissionDenied, Key: k.Name,
			Msg: fmt.Sprintf("API key %q is limited to apps: %s spans shops (name the shop in open_id / open_ids or the app in app_key, or use a key with app=*)", k.Name, strings.TrimPrefix(fullMethod, "/"))}
	}
	return &Error{Code: codes.PermissionDenied, Key: k.Name,
		Msg: fmt.Sprintf("API key %q is limited to shops: %s spans shops (name the shop in open_id / open_ids, or use a key with shop=*)", k.Name, strings.TrimPrefix(fullMethod, "/"))}
}

// checkShopApp refuses a shop outside the apps of k as unknown.
func (a *Authenticator) checkShopApp(ctx context.Context, k *Key, openID string) error {
	if a.shopApp == nil {
		return errShopUnknown
	}
	app, err := a.shopApp(ctx, openID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errShopUnknown
	case err != nil:
		return err
	case !k.AllowsApp(app):
		a.log.InfoContext(ctx, "call refused: the shop is another app's", "key", k.Name, "open_id", openID)
		return errShopUnknown
	}
	return nil
}

// collectApps appends the values of every populated app_key field of m
// (nested messages included) and reports whether any was set.
func collectApps(m protoreflect.Message, out *[]string, depth int) bool {
	if depth > maxDepth {
		return false
	}
	named := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.Name() == "app_key" && fd.Kind() == protoreflect.StringKind && !fd.IsList():
			if s := v.String(); s != "" {
				*out = append(*out, s)
				named = true
			}
		case fd.Kind() == protoreflect.MessageKind && !fd.IsMap() && !fd.IsList():
			named = collectApps(v.Message(), out, depth+1) || named
		}
		return true
	})
	return named
}

// maxDepth bounds the walk through nested request messages.
const maxDepth = 8

// collectShops appends the values of every populated open_id and open_ids
// field of m (nested messages included) and reports whether any was set.
func collectShops(m protoreflect.Message, out *[]string, depth int) bool {
	if depth > maxDepth {
		return false
	}
	named := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.Name() == "open_id" && fd.Kind() == protoreflect.StringKind && !fd.IsList():
			if s := v.String(); s != "" {
				*out = append(*out, s)
				named = true
			}
		case fd.Name() == "open_ids" && fd.Kind() == protoreflect.StringKind && fd.IsList():
			l := v.List()
			for i := range l.Len() {
				*out = append(*out, l.Get(i).String())
				named = true
			}
		case fd.Kind() == protoreflect.MessageKind && !fd.IsMap():
			if fd.IsList() {
				l := v.List()
				for i := range l.Len() {
					named = collectShops(l.Get(i).Message(), out, depth+1) || named
				}
			} else {
				named = collectShops(v.Message(), out, depth+1) || named
			}
		}
		return true
	})
	return named
}

func (a *Authenticator) refuse(ctx context.Context, method string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		attrs := []any{"method", method, "code", e.Code.String(), "reason", e.Msg}
		if e.Key != "" {
			attrs = append(attrs, "key", e.Key)
		}
		if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
			attrs = append(attrs, "peer", p.Addr.String())
		}
		a.log.InfoContext(ctx, "call refused", attrs...)
	}
	return a.status(ctx, err)
}

// admit authenticates and authorizes a call of fullMethod.
func (a *Authenticator) admit(ctx context.Context, fullMethod string) (context.Context, *Key, error) {
	if !a.Enabled() || openMethods[fullMethod] {
		return ctx, nil, nil
	}
	k, err := a.authenticate(ctx)
	if err == nil {
		err = authorize(k, fullMethod)
	}
	if err != nil {
		return ctx, nil, err
	}
	if !k.AllApps() { // the context's copy can tell a shop's app (AllowsShop)
		bound := *k
		bound.shopApp = a.shopApp
		k = &bound
	}
	return context.WithValue(ctx, keyCtx{}, k), k, nil
}

// UnaryServerInterceptor authenticates and authorizes unary calls.
func (a *Authenticator) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		ctx, k, err := a.admit(ctx, info.FullMethod)
		if err == nil && k != nil {
			err = a.checkShops(ctx, k, info.FullMethod, req, true)
		}
		if err != nil {
			return nil, a.refuse(ctx, info.FullMethod, err)
		}
		return h(ctx, req)
	}
}

// StreamServerInterceptor authenticates and authorizes streams; the shops
// of every message the client sends are checked as it arrives (the first
// must name the key's shops unless the RPC is shop-free).
func (a *Authenticator) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		ctx, k, err := a.admit(ss.Context(), info.FullMethod)
		if err != nil {
			return a.refuse(ss.Context(), info.FullMethod, err)
		}
		if k == nil {
			return h(srv, ss)
		}
		return h(srv, &checkedStream{ServerStream: ss, ctx: ctx, a: a, k: k, method: info.FullMethod})
	}
}

type checkedStream struct {
	grpc.ServerStream
	ctx    context.Context
	a      *Authenticator
	k      *Key
	method string
	n      int
}

func (s *checkedStream) Context() context.Context { return s.ctx }

func (s *checkedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	s.n++
	if err := s.a.checkShops(s.ctx, s.k, s.method, m, s.n == 1); err != nil {
		return s.a.refuse(s.ctx, s.method, err)
	}
	return nil
}

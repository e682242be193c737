package service

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/auth"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/token"
)

// AuthorizationStore reads stored authorizations (implemented by *store.TokenStore).
type AuthorizationStore interface {
	ListMetadata(ctx context.Context) ([]store.Authorization, error)
	Get(ctx context.Context, openID string) (store.Authorization, uint64, error)
	Reencrypt(ctx context.Context) (int, error)
}

// AuthorizationFlow runs the OAuth lifecycle (implemented by *token.Manager).
type AuthorizationFlow interface {
	StartApp(ctx context.Context, appKey string, scopes []string, returnURL, openID string) (token.Started, error)
	CompleteApp(ctx context.Context, appKey, code, state string) (store.Authorization, string, error)
	AcceptApp(ctx context.Context, appKey, code, source string) (store.Authorization, error)
	Refresh(ctx context.Context, openID string) (store.Authorization, error)
	Delete(ctx context.Context, openID string) error
	Watch(ctx context.Context, openID string) (<-chan token.Event, error)
}

// Authorization implements gatewayv1.AuthorizationServiceServer.
type Authorization struct {
	gatewayv1.UnimplementedAuthorizationServiceServer
	store      AuthorizationStore
	flow       AuthorizationFlow
	primaryKey string
	cutoff     time.Duration
	log        *slog.Logger
}

var _ gatewayv1.AuthorizationServiceServer = (*Authorization)(nil)

// NewAuthorization builds the AuthorizationService. primaryKey is the id of
// the token key that encrypts; testUserCutoff the platform's test-user
// authorization lifetime (10 days).
func NewAuthorization(s AuthorizationStore, f AuthorizationFlow, primaryKey string, testUserCutoff time.Duration, log *slog.Logger) *Authorization {
	return &Authorization{store: s, flow: f, primaryKey: primaryKey, cutoff: testUserCutoff, log: log}
}

// StartAuthorization issues a state and the consent URL. The flow checks
// the scopes, and the return URL against the allowed hosts, before it stores
// anything (token.InvalidError → InvalidArgument with field violations).
func (s *Authorization) StartAuthorization(ctx context.Context, req *gatewayv1.StartAuthorizationRequest) (*gatewayv1.StartAuthorizationResponse, error) {
	st, err := s.flow.StartApp(ctx, req.GetAppKey(), req.GetScopes(), req.GetReturnUrl(), "")
	if err != nil {
		return nil, ToStatus(ctx, s.log, err)
	}
	return &gatewayv1.StartAuthorizationResponse{Url: st.URL, State: st.State, ExpireTime: timestamppb.New(st.Expiry)}, nil
}

// CompleteAuthorization consumes the state and exchanges the code. Without
// a state the code is one the platform issued on its own (the developer
// console's copied code): only a key with the admin group may complete it,
// and the authorization's source is console. With authentication off (no
// keys: loopback only, docs/security.md) every caller may, as every caller
// may call the admin RPCs then.
func (s *Authorization) CompleteAuthorization(ctx context.Context, req *gatewayv1.CompleteAuthorizationRequest) (*gatewayv1.CompleteAuthorizationResponse, error) {
	var a store.Authorization
	var err error
	if req.GetState() != "" {
		a, _, err = s.flow.CompleteApp(ctx, req.GetAppKey(), req.GetCode(), req.GetState())
	} else if k := auth.KeyFrom(ctx); k != nil && !k.AllowsGroup(auth.GroupAdmin) {
		err = &auth.Error{Code: codes.PermissionDenied, Key: k.Name,
			Msg: "completing a code without a state (a code the developer console issued) needs a key with the admin group; codes of the gateway's consent flow come with their state"}
	} else {
		a, err = s.flow.AcceptApp(ctx, req.GetAppKey(), req.GetCode(), store.SourceConsole)
	}
	if err != nil {
		return nil, ToStatus(ctx, s.log, err)
	}
	return &gatewayv1.CompleteAuthorizationResponse{Authorization: s.proto(a)}, nil
}

const defaultAuthorizationPage = 100

// A ListAuthorizations page token is opaque to callers: base64url (no
// padding) of a version, the status filter it was issued for and the last
// open_id of its page, followed by a check of those bytes. A made-up,
// damaged or truncated token fails the check and is refused rather than
// read as a position; a token used with another filter is refused too. The
// check is integrity against mistakes, not a secret: a token only says
// where a listing the caller may already read goes on.
const (
	pageTokenVersion = "a1"
	pageTokenCheck   = 8 // bytes of SHA-256
)

// pageFilter is the filter a page token is bound to: the status and the
// app (the app after a '/', which no status number holds).
func pageFilter(req *gatewayv1.ListAuthorizationsRequest) string {
	return pageFilterOf(req.GetStatus(), req.GetAppKey())
}

func pageFilterOf(status gatewayv1.AuthorizationStatus, appKey string) string {
	f := strconv.Itoa(int(status))
	if appKey != "" {
		f += "/" + appKey
	}
	return f
}

func encodePageToken(filter, lastOpenID string) string {
	body := pageTokenVersion + "\x00" + filter + "\x00" + lastOpenID
	sum := sha256.Sum256([]byte(body))
	return base64.RawURLEncoding.EncodeToString(append([]byte(body), sum[:pageTokenCheck]...))
}

// decodePageToken returns the open_id after which the page starts.
func decodePageToken(tok, filter string) (string, error) {
	refuse := func(why string) (string, error) {
		return "", InvalidArgument(FieldViolation{Field: "page_token", Description: why})
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	if err != nil || len(raw) <= pageTokenCheck {
		return refuse("not a page token of this API; pass next_page_token from the previous page, or none for the first page")
	}
	body, check := raw[:len(raw)-pageTokenCheck], raw[len(raw)-pageTokenCheck:]
	sum := sha256.Sum256(body)
	parts := strings.SplitN(string(body), "\x00", 3)
	if subtle.ConstantTimeCompare(check, sum[:pageTokenCheck]) != 1 || len(parts) != 3 || parts[0] != pageTokenVersion || parts[2] == "" {
		return refuse("not a page token of this API; pass next_page_token from the previous page, or none for the first page")
	}
	if parts[1] != filter {
		return refuse("was issued for another status or app filter; list from the first page again")
	}
	return parts[2], nil
}

// ListAuthorizations lists stored shop authorizations by open_id, a page at
// a time, optionally of one status.
func (s *Authorization) ListAuthorizations(ctx context.Context, req *gatewayv1.ListAuthorizationsRequest) (*gatewayv1.ListAuthorizationsResponse, error) {
	after := ""
	if t := req.GetPageToken(); t != "" {
		var err error
		if after, err = decodePageToken(t, pageFilter(req)); err != nil {
			return nil, err
		}
	}
	size := int(req.GetPageSize())
	if size == 0 {
		size = defaultAuthorizationPage
	}
	all, err := s.store.ListMetadata(ctx) // sorted by open_id; no tokens decrypted
	if err != nil {
		return nil, ToStatus(ctx, s.log, err)
	}
	out := &gatewayv1.ListAuthorizationsResponse{}
	for _, a := range all {
		if a.OpenID <= after {
			continue
		}
		p := s.proto(a)
		if req.GetStatus() != gatewayv1.AuthorizationStatus_AUTHORIZATION_STATUS_UNSPECIFIED && p.GetStatus() != req.GetStatus() {
			continue
		}
		if app := req.GetAppKey(); app != "" && p.GetAppKey() != app {
			continue
		}
		if len(out.Authorizations) == size {
			out.NextPageToken = encodePageToken(pageFilter(req), out.Authorizations[size-1].GetOpenId())
			break
		}
		out.Authorizations = append(out.Authorizations, p)
	}
	return out, nil
}

// GetAuthorization returns one shop's authorization.
func (s *Authorization) GetAuthorization(ctx context.Context, req *gatewayv1.GetAuthorizationRequest) (*gatewayv1.GetAuthorizationResponse, error) {
	a, _, err := s.store.Get(ctx, req.GetOpenId())
	if err != nil {
		return nil, ToStatus(ctx, s.log, err)
	}
	return &gatewayv1.GetAuthorizationResponse{Authorization: s.proto(a)}, nil
}

// RefreshAuthorization refreshes now (once across replicas).
func (s *Authorization) RefreshAuthorization(ctx context.Context, req *gatewayv1.RefreshAuthorizationRequest) (*gatewayv1.RefreshAuthorizationResponse, error) {
	a, err := s.flow.Refresh(ctx, req.GetOpenId())
	if err != nil {
		return nil, ToStatus(ctx, s.log, err)
	}
	return &gatewayv1.RefreshAuthorizationResponse{Authorization: s.proto(a)}, nil
}

// DeleteAuthorization forgets a shop.
func (s *Authorization) DeleteAuthorization(ctx context.Context, req *gatewayv1.DeleteAuthorizationRequest) (*gatewayv1.DeleteAuthorizationResponse, error) {
	if err := s.flow.Delete(ctx, req.GetOpenId()); err != nil {
		return nil, ToStatus(ctx, s.log, err)
	}
	return &gatewayv1.DeleteAuthorizationResponse{}, nil
}

// WatchAuthorizationEvents streams lifecycle events until the caller leaves.
func (s *Authorization) WatchAuthorizationEvents(req *gatewayv1.WatchAuthorizationEventsRequest, stream gatewayv1.AuthorizationService_WatchAuthorizationEventsServer) error {
	ctx := stream.Context()
	events, err := s.flow.Watch(ctx, req.GetOpenId())
	if err != nil {
		return ToStatus(ctx, s.log, err)
	}
	for ev := range events {
		if err := stream.Send(&gatewayv1.WatchAuthorizationEventsResponse{Event: s.eventProto(ev)}); err != nil {
			return err
		}
	}
	return nil
}

// RotateTokenKeys re-encrypts every record under the primary token key.
func (s *Authorization) RotateTokenKeys(ctx context.Context, _ *gatewayv1.RotateTokenKeysRequest) (*gatewayv1.RotateTokenKeysResponse, error) {
	n, err := s.store.Reencrypt(ctx)
	if err != nil {
		return nil, ToStatus(ctx, s.log, err)
	}
	return &gatewayv1.RotateTokenKeysResponse{Reencrypted: int32(n), KeyId: s.primaryKey}, nil
}

var eventTypes = map[token.EventType]gatewayv1.AuthorizationEventType{
	token.EventAuthorized:          gatewayv1.AuthorizationEventType_AUTHORIZATION_EVENT_TYPE_AUTHORIZED,
	token.EventRefreshed:           gatewayv1.AuthorizationEventType_AUTHORIZATION_EVENT_TYPE_REFRESHED,
	token.EventRefreshFailed:       gatewayv1.AuthorizationEventType_AUTHORIZATION_EVENT_TYPE_REFRESH_FAILED,
	token.EventRevoked:             gatewayv1.AuthorizationEventType_AUTHORIZATION_EVENT_TYPE_REVOKED,
	token.EventExpired:             gatewayv1.AuthorizationEventType_AUTHORIZATION_EVENT_TYPE_EXPIRED,
	token.EventExpiringSoon:        gatewayv1.AuthorizationEventType_AUTHORIZATION_EVENT_TYPE_EXPIRING_SOON,
	token.EventTestUserCutoff:      gatewayv1.AuthorizationEventType_AUTHORIZATION_EVENT_TYPE_TEST_USER_CUTOFF_SOON,
	token.EventDeleted:             gatewayv1.AuthorizationEventType_AUTHORIZATION_EVENT_TYPE_DELETED,
	token.EventSubscriptionExpired: gatewayv1.AuthorizationEventType_AUTHORIZATION_EVENT_TYPE_SUBSCRIPTION_EXPIRED,
}

func (s *Authorization) eventProto(ev token.Event) *gatewayv1.AuthorizationEvent {
	out := &gatewayv1.AuthorizationEvent{Type: eventTypes[ev.Type], OpenId: ev.OpenID, Time: timestamppb.New(ev.Time), Message: ev.Message}
	if ev.Authorization != nil {
		out.Authorization = s.proto(*ev.Authorization)
	}
	return out
}

var statusProto = map[string]gatewayv1.AuthorizationStatus{
	store.StatusActive:              gatewayv1.AuthorizationStatus_AUTHORIZATION_STATUS_ACTIVE,
	store.StatusRefreshFailed:       gatewayv1.AuthorizationStatus_AUTHORIZATION_STATUS_REFRESH_FAILED,
	store.StatusRevoked:             gatewayv1.AuthorizationStatus_AUTHORIZATION_STATUS_REVOKED,
	store.StatusExpired:             gatewayv1.AuthorizationStatus_AUTHORIZATION_STATUS_EXPIRED,
	store.StatusSubscriptionExpired: gatewayv1.AuthorizationStatus_AUTHORIZATION_STATUS_SUBSCRIPTION_EXPIRED,
}

var sourceProto = map[string]gatewayv1.AuthorizationSource{
	store.SourceOAuthFlow:     gatewayv1.AuthorizationSource_AUTHORIZATION_SOURCE_OAUTH_FLOW,
	store.SourceServiceMarket: gatewayv1.AuthorizationSource_AUTHORIZATION_SOURCE_SERVICE_MARKET,
	store.SourceConsole:       gatewayv1.AuthorizationSource_AUTHORIZATION_SOURCE_CONSOLE,
}

// proto converts a stored authorization; tokens are never copied.
func (s *Authorization) proto(a store.Authorization) *gatewayv1.Authorization {
	p := &gatewayv1.Authorization{
		OpenId:                 a.OpenID,
		Scopes:                 a.Scopes,
		Status:                 statusProto[a.Status],
		AccessTokenExpireTime:  timestamp(a.AccessExpiry),
		RefreshTokenExpireTime: timestamp(a.RefreshExpiry),
		CreateTime:             timestamp(a.CreatedAt),
		LastRefreshTime:        timestamp(a.LastRefresh),
		TestUser:               a.TestUser,
		Source:                 sourceProto[a.Source],
		AppKey:                 a.AppKey,
		MainOpenId:             a.MainOpenID,
		SellerId:               a.SellerID,
	}
	if a.TestUser && !a.CreatedAt.IsZero() {
		p.TestUserCutoffTime = timestamp(a.CreatedAt.Add(s.cutoff))
	}
	return p
}

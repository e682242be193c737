package service

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// AuthorizationStore reads stored authorizations (implemented by *store.TokenStore).
type AuthorizationStore interface {
	List(ctx context.Context) ([]store.Authorization, error)
	Get(ctx context.Context, openID string) (store.Authorization, uint64, error)
}

// Authorization implements gatewayv1.AuthorizationServiceServer.
type Authorization struct {
	gatewayv1.UnimplementedAuthorizationServiceServer
	store AuthorizationStore
	log   *slog.Logger
}

var _ gatewayv1.AuthorizationServiceServer = (*Authorization)(nil)

// NewAuthorization builds the AuthorizationService.
func NewAuthorization(s AuthorizationStore, log *slog.Logger) *Authorization {
	return &Authorization{store: s, log: log}
}

// ListAuthorizations lists every stored shop authorization.
func (s *Authorization) ListAuthorizations(ctx context.Context, _ *gatewayv1.ListAuthorizationsRequest) (*gatewayv1.ListAuthorizationsResponse, error) {
	all, err := s.store.List(ctx)
	if err != nil {
		return nil, ToStatus(ctx, s.log, err)
	}
	out := &gatewayv1.ListAuthorizationsResponse{Authorizations: make([]*gatewayv1.Authorization, 0, len(all))}
	for _, a := range all {
		out.Authorizations = append(out.Authorizations, AuthorizationProto(a))
	}
	return out, nil
}

// GetAuthorization returns one shop's authorization.
func (s *Authorization) GetAuthorization(ctx context.Context, req *gatewayv1.GetAuthorizationRequest) (*gatewayv1.GetAuthorizationResponse, error) {
	a, _, err := s.store.Get(ctx, req.GetOpenId())
	if err != nil {
		return nil, ToStatus(ctx, s.log, err)
	}
	return &gatewayv1.GetAuthorizationResponse{Authorization: AuthorizationProto(a)}, nil
}

var statusProto = map[string]gatewayv1.AuthorizationStatus{
	"active":         gatewayv1.AuthorizationStatus_AUTHORIZATION_STATUS_ACTIVE,
	"refresh_failed": gatewayv1.AuthorizationStatus_AUTHORIZATION_STATUS_REFRESH_FAILED,
	"revoked":        gatewayv1.AuthorizationStatus_AUTHORIZATION_STATUS_REVOKED,
	"expired":        gatewayv1.AuthorizationStatus_AUTHORIZATION_STATUS_EXPIRED,
}

// AuthorizationProto converts a stored authorization; tokens are never copied.
func AuthorizationProto(a store.Authorization) *gatewayv1.Authorization {
	return &gatewayv1.Authorization{
		OpenId:                 a.OpenID,
		Scopes:                 a.Scopes,
		Status:                 statusProto[a.Status],
		AccessTokenExpireTime:  ts(a.AccessExpiry),
		RefreshTokenExpireTime: ts(a.RefreshExpiry),
		CreateTime:             ts(a.CreatedAt),
		LastRefreshTime:        ts(a.LastRefresh),
		TestUser:               a.TestUser,
	}
}

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

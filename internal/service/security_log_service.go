package service

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/securitylog"
)

// SecurityLogReporter stores explicitly reported security-log entries and
// counts what the sender did (*securitylog.Recorder).
type SecurityLogReporter interface {
	Report(ctx context.Context, e securitylog.Entry) error
	Stats(ctx context.Context) securitylog.Stats
	Now() time.Time
}

// Bounds of a reported entry's time: a report may come late (a caller's
// own log shipped later) but not from long ago, and not from the future
// beyond clock skew.
const (
	maxReportAge  = 30 * 24 * time.Hour
	maxReportSkew = 5 * time.Minute
)

// SecurityLog implements gatewayv1.SecurityLogServiceServer: logins and
// exports the caller reports, and the sender's counts
// (docs/security-logs.md).
type SecurityLog struct {
	gatewayv1.UnimplementedSecurityLogServiceServer
	rec    SecurityLogReporter
	tokens Tokens
	log    *slog.Logger
}

var _ gatewayv1.SecurityLogServiceServer = (*SecurityLog)(nil)

// NewSecurityLog builds the service on the recorder and the shops' tokens
// (a report of a shop the gateway has no authorization of is NotFound).
func NewSecurityLog(rec SecurityLogReporter, tokens Tokens, log *slog.Logger) *SecurityLog {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &SecurityLog{rec: rec, tokens: tokens, log: log}
}

// ReportLogin stores a login report.
func (s *SecurityLog) ReportLogin(ctx context.Context, req *gatewayv1.ReportLoginRequest) (*gatewayv1.ReportLoginResponse, error) {
	t, err := s.reportTime(req.GetTime())
	if err != nil {
		return nil, err
	}
	e := securitylog.Entry{Kind: securitylog.KindLogin, OpenID: req.GetOpenId(), UserIP: req.GetUserIp(), Time: t,
		LoginResult: req.GetLoginResult(), LoginMessage: req.GetLoginMessage()}
	if err := s.report(ctx, e); err != nil {
		return nil, err
	}
	return &gatewayv1.ReportLoginResponse{}, nil
}

// ReportExport stores an export report: its ids (sent as order entries of
// at most 100 in one open.security.log.batch call), or its filter.
func (s *SecurityLog) ReportExport(ctx context.Context, req *gatewayv1.ReportExportRequest) (*gatewayv1.ReportExportResponse, error) {
	if len(req.GetOrderIds()) == 0 && req.GetData() == "" {
		return nil, InvalidArgument(FieldViolation{Field: "order_ids", Description: "name the exported orders: order_ids, or data (the filter that selected them)"})
	}
	t, err := s.reportTime(req.GetTime())
	if err != nil {
		return nil, err
	}
	e := securitylog.Entry{Kind: securitylog.KindBatch, OpenID: req.GetOpenId(), UserIP: req.GetUserIp(), URL: req.GetUrl(),
		Operation: int(req.GetOperation()), OrderIDs: req.GetOrderIds(), Data: req.GetData(), OrderTotal: req.GetOrderTotal(), Time: t}
	if err := s.report(ctx, e); err != nil {
		return nil, err
	}
	return &gatewayv1.ReportExportResponse{}, nil
}

// GetSecurityLogStats returns the sender's counts.
func (s *SecurityLog) GetSecurityLogStats(ctx context.Context, _ *gatewayv1.GetSecurityLogStatsRequest) (*gatewayv1.GetSecurityLogStatsResponse, error) {
	st := s.rec.Stats(ctx)
	return &gatewayv1.GetSecurityLogStatsResponse{Enabled: st.Enabled, Sent: st.Sent, FailedStore: st.FailedStore,
		FailedRetry: st.FailedRetry, Dropped: st.Dropped, Pending: st.Pending}, nil
}

// reportTime is a report's time in Unix ms: the given one within bounds,
// or now.
func (s *SecurityLog) reportTime(ts *timestamppb.Timestamp) (int64, error) {
	now := s.rec.Now()
	if ts == nil {
		return now.UnixMilli(), nil
	}
	if err := ts.CheckValid(); err != nil {
		return 0, InvalidArgument(FieldViolation{Field: "time", Description: "want a valid timestamp"})
	}
	t := ts.AsTime()
	if t.Before(now.Add(-maxReportAge)) || t.After(now.Add(maxReportSkew)) {
		return 0, InvalidArgument(FieldViolation{Field: "time", Description: "want a time within the last 30 days and at most 5 minutes ahead"})
	}
	return t.UnixMilli(), nil
}

// report checks that the gateway holds the shop's authorization and
// stores e.
func (s *SecurityLog) report(ctx context.Context, e securitylog.Entry) error {
	if _, err := s.tokens.Shop(ctx, e.OpenID); err != nil {
		return ToStatus(ctx, s.log, err)
	}
	err := s.rec.Report(ctx, e)
	var fe *securitylog.FieldError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return InvalidArgument(FieldViolation{Field: fe.Field, Description: fe.Description})
	case errors.Is(err, securitylog.ErrDisabled):
		return gatewayStatus(codes.FailedPrecondition, gatewayv1.ErrorReason_ERROR_REASON_INVALID_REQUEST,
			"security logs are off for this shop's app (KWAISHOP_SECURITY_LOG, KWAISHOP_SECURITY_LOG_APPS; docs/security-logs.md)", nil)
	case errors.Is(err, securitylog.ErrFull):
		return gatewayStatus(codes.Unavailable, gatewayv1.ErrorReason_ERROR_REASON_INTERNAL,
			"the security log is full (KWAISHOP_SECURITY_LOG_MAX_BYTES): the report was not stored; retry later (docs/security-logs.md)",
			map[string]string{"security_log": "full"}, retryInfo(securityLogFullRetryDelay))
	case errors.Is(err, securitylog.ErrNotStored):
		return gatewayStatus(codes.Unavailable, gatewayv1.ErrorReason_ERROR_REASON_INTERNAL,
			"the report could not be stored; retry later", nil, retryInfo(time.Second))
	}
	return ToStatus(ctx, s.log, err)
}

package service

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/stats"
)

// StatsReader answers statistics queries (implemented by *stats.Recorder).
type StatsReader interface {
	APIStatsFor(ctx context.Context, q stats.APIQuery) (*stats.APIReport, error)
	QuotaFor(ctx context.Context, appKey string) (*stats.QuotaReport, error)
	MessageStatsFor(ctx context.Context, q stats.MessageQuery) (*stats.MessageReport, error)
}

// Stats implements gatewayv1.StatsServiceServer.
type Stats struct {
	gatewayv1.UnimplementedStatsServiceServer
	r   StatsReader
	log *slog.Logger
}

var _ gatewayv1.StatsServiceServer = (*Stats)(nil)

// NewStats builds the StatsService.
func NewStats(r StatsReader, log *slog.Logger) *Stats { return &Stats{r: r, log: log} }

func (s *Stats) toStatus(ctx context.Context, err error) error {
	if errors.Is(err, stats.ErrUnknownWindow) { // the proto rules normally catch it first
		return InvalidArgument(FieldViolation{Field: "window", Description: "must be 1h, 24h or 7d"})
	}
	if errors.Is(err, stats.ErrUnknownApp) {
		return InvalidArgument(FieldViolation{Field: "app_key", Description: "not an app this gateway serves"})
	}
	return ToStatus(ctx, s.log, err)
}

// GetApiStats reports per-API statistics of a window.
func (s *Stats) GetApiStats(ctx context.Context, req *gatewayv1.GetApiStatsRequest) (*gatewayv1.GetApiStatsResponse, error) {
	rep, err := s.r.APIStatsFor(ctx, stats.APIQuery{Window: req.GetWindow(), OpenID: req.GetOpenId(), AppKey: req.GetAppKey()})
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	out := &gatewayv1.GetApiStatsResponse{
		Window: rep.Window, StartTime: timestamppb.New(rep.Start), EndTime: timestamppb.New(rep.End),
		StepSeconds: int32(rep.Step / time.Second), OpenId: rep.OpenID, Total: apiStatsProto(rep.Total), Replicas: rep.Replicas,
		Apis: make([]*gatewayv1.ApiStats, 0, len(rep.APIs)), AppKey: rep.AppKey,
	}
	for _, a := range rep.APIs {
		out.Apis = append(out.Apis, apiStatsProto(a))
	}
	for _, a := range rep.Apps {
		out.Apps = append(out.Apps, &gatewayv1.AppApiStats{AppKey: a.AppKey, Total: apiStatsProto(a.Total)})
	}
	return out, nil
}

func apiStatsProto(a stats.APIStats) *gatewayv1.ApiStats {
	p := &gatewayv1.ApiStats{
		Method: a.Method, Calls: a.Calls, Successes: a.Successes, Failures: a.Failures, SuccessRate: a.SuccessRate,
		LatencyP50Ms: a.P50MS, LatencyP95Ms: a.P95MS, LatencyP99Ms: a.P99MS, LatencyMeanMs: a.MeanMS, LatencyMaxMs: a.MaxMS,
	}
	for _, c := range a.ByClass {
		p.ErrorsByClass = append(p.ErrorsByClass, &gatewayv1.ErrorClassCount{Class: c.Class, Count: c.Count})
	}
	for _, r := range a.ByResult {
		p.ErrorsByResult = append(p.ErrorsByResult, &gatewayv1.ResultCodeCount{Result: r.Result, Count: r.Count})
	}
	p.Timeline = make([]*gatewayv1.TimelinePoint, len(a.Timeline))
	for i, pt := range a.Timeline {
		p.Timeline[i] = &gatewayv1.TimelinePoint{StartTime: timestamppb.New(pt.Start), Calls: pt.Calls, Failures: pt.Failures}
	}
	return p
}

var quotaKinds = map[string]gatewayv1.QuotaKind{
	stats.QuotaAppDaily:      gatewayv1.QuotaKind_QUOTA_KIND_APP_DAILY,
	stats.QuotaTestUserDaily: gatewayv1.QuotaKind_QUOTA_KIND_TEST_USER_DAILY,
	stats.QuotaAPIQPS:        gatewayv1.QuotaKind_QUOTA_KIND_API_QPS,
}

func quotaUse(u stats.Use) *gatewayv1.QuotaUse {
	return &gatewayv1.QuotaUse{Used: u.Used, Limit: u.Limit, Ratio: u.Ratio}
}

// GetQuota reports today's quota use.
func (s *Stats) GetQuota(ctx context.Context, req *gatewayv1.GetQuotaRequest) (*gatewayv1.GetQuotaResponse, error) {
	rep, err := s.r.QuotaFor(ctx, req.GetAppKey())
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	out := &gatewayv1.GetQuotaResponse{
		DayStartTime: timestamppb.New(rep.DayStart), AppDaily: quotaUse(rep.AppDaily), WarnRatio: rep.WarnRatio,
		QpsSinceTime: timestamppb.New(rep.QPSSince), AppKey: rep.AppKey,
	}
	for _, a := range rep.Apps {
		out.Apps = append(out.Apps, &gatewayv1.AppQuota{AppKey: a.AppKey, Daily: quotaUse(a.Daily), TestUserDailyLimit: a.TestUserDaily})
	}
	for _, t := range rep.TestUsers {
		out.TestUsers = append(out.TestUsers, &gatewayv1.TestUserQuota{OpenId: t.OpenID, Daily: quotaUse(t.Daily), AppKey: t.AppKey, SubOpenIds: t.SubOpenIDs})
	}
	for _, q := range rep.APIs {
		out.Apis = append(out.Apis, &gatewayv1.ApiQps{Method: q.Method, PeakQps: q.Peak, LimitQps: q.Limit, Ratio: q.Ratio, PeakTime: timestamppb.New(q.PeakTime), AppKey: q.AppKey})
	}
	for _, w := range rep.Warnings {
		out.Warnings = append(out.Warnings, &gatewayv1.QuotaWarning{
			Kind: quotaKinds[w.Kind], Subject: w.Subject, Used: w.Used, Limit: w.Limit, Ratio: w.Ratio,
			CreateTime: timestamppb.New(w.Time), Replica: w.Replica, AppKey: w.AppKey,
		})
	}
	return out, nil
}

func messageCounts(m stats.MessageCounts) *gatewayv1.MessageCounts {
	return &gatewayv1.MessageCounts{Received: m.Received, Duplicated: m.Duplicated, Delivered: m.Delivered, DeadLettered: m.DeadLettered}
}

// GetMessageStats reports pushed-message flow of a window.
func (s *Stats) GetMessageStats(ctx context.Context, req *gatewayv1.GetMessageStatsRequest) (*gatewayv1.GetMessageStatsResponse, error) {
	rep, err := s.r.MessageStatsFor(ctx, stats.MessageQuery{Window: req.GetWindow(), AppKey: req.GetAppKey()})
	if err != nil {
		return nil, s.toStatus(ctx, err)
	}
	out := &gatewayv1.GetMessageStatsResponse{
		Window: rep.Window, StartTime: timestamppb.New(rep.Start), EndTime: timestamppb.New(rep.End),
		StepSeconds: int32(rep.Step / time.Second), Total: messageCounts(rep.Total),
		Timeline: make([]*gatewayv1.MessageTimelinePoint, len(rep.Timeline)), AppKey: rep.AppKey,
	}
	for _, a := range rep.Apps {
		out.Apps = append(out.Apps, &gatewayv1.AppMessageCounts{AppKey: a.AppKey, Total: messageCounts(a.Total)})
	}
	for i, p := range rep.Timeline {
		out.Timeline[i] = &gatewayv1.MessageTimelinePoint{StartTime: timestamppb.New(p.Start), Counts: messageCounts(p.MessageCounts)}
	}
	for _, c := range rep.Consumers {
		out.Consumers = append(out.Consumers, &gatewayv1.ConsumerLag{Consumer: c.Consumer, Pending: c.Pending, ObserveTime: timestamppb.New(c.At)})
	}
	return out, nil
}

// Package floor is the least a Go gRPC service can do to honour
// PlatformService.Call: decode the request, sign, make one HTTP call to the
// platform, turn the JSON answer into a CallResponse, and nothing else: one
// shop, one access token given at start, no token management, limits,
// retries, validation, telemetry or logging.
//
// `make bench` runs it as a process of its own beside the gateway and drives
// both with the same load client, so the gateway's CPU time and latency per
// Call are read against this floor in every run (docs/benchmarks.md).
package floor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/sign"
)

// Config is one floor service.
type Config struct {
	GRPCAddr    string // the PlatformService listener
	HTTPAddr    string // GET /readyz and /debug/pprof/ ("" = none)
	BaseURL     string // the platform (the sandbox), e.g. http://127.0.0.1:8090
	AppKey      string
	SignSecret  string
	AccessToken string // of the one shop every call is made for
}

// Validate reports every missing field at once.
func (c Config) Validate() error {
	var errs []error
	for _, f := range []struct{ name, v string }{
		{"grpc address", c.GRPCAddr}, {"base URL", c.BaseURL}, {"app key", c.AppKey},
		{"sign secret", c.SignSecret}, {"access token", c.AccessToken},
	} {
		if f.v == "" {
			errs = append(errs, fmt.Errorf("floor: %s is required", f.name))
		}
	}
	return errors.Join(errs...)
}

// Server implements PlatformService.Call.
type Server struct {
	gatewayv1.UnimplementedPlatformServiceServer
	cfg  Config
	base string
	hc   *http.Client
}

// New returns the service for cfg.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 1024, 256
	return &Server{cfg: cfg, base: strings.TrimRight(cfg.BaseURL, "/"), hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}, nil
}

// Call decodes the request, signs it, sends one GET and converts the answer.
func (s *Server) Call(ctx context.Context, req *gatewayv1.CallRequest) (*gatewayv1.CallResponse, error) {
	param := []byte("{}")
	if p := req.GetParams().GetStructValue(); p != nil {
		b, err := json.Marshal(p.AsMap())
		if err != nil {
			return nil, status.Error(codes.InvalidArgument, "params: "+err.Error())
		}
		param = b
	}
	version := max(req.GetVersion(), 1)
	v := url.Values{
		sign.KeyAccessToken: {s.cfg.AccessToken},
		sign.KeyAppKey:      {s.cfg.AppKey},
		sign.KeyMethod:      {req.GetMethod()},
		sign.KeyParam:       {string(param)},
		sign.KeySignMethod:  {string(sign.HMACSHA256)},
		sign.KeyTimestamp:   {strconv.FormatInt(time.Now().UnixMilli(), 10)},
		sign.KeyVersion:     {strconv.Itoa(int(version))},
	}
	sig, err := sign.Sign(sign.HMACSHA256, func(k string) (string, bool) {
		if vs := v[k]; len(vs) > 0 {
			return vs[0], true
		}
		return "", false
	}, s.cfg.SignSecret)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	v.Set(sign.KeySign, sig)
	u := s.base + "/" + strings.ReplaceAll(req.GetMethod(), ".", "/") + "?" + v.Encode()
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, "method")
	}
	resp, err := s.hc.Do(hr)
	if err != nil {
		return nil, status.Error(codes.Unavailable, "platform unreachable")
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	_ = resp.Body.Close()
	if err != nil {
		return nil, status.Error(codes.Unavailable, "reading the answer")
	}
	var env struct {
		Result    int64           `json:"result"`
		ErrorMsg  string          `json:"error_msg"`
		RequestID string          `json:"requestId"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, status.Errorf(codes.Unavailable, "http %d: answer is not JSON", resp.StatusCode)
	}
	if env.Result != 1 {
		return nil, status.Errorf(codes.FailedPrecondition, "result %d: %s", env.Result, env.ErrorMsg)
	}
	out := &gatewayv1.CallResponse{Result: 1, RequestId: env.RequestID}
	if len(env.Data) > 0 && string(env.Data) != "null" {
		var x any
		if err := json.Unmarshal(env.Data, &x); err != nil {
			return nil, status.Error(codes.Unavailable, "data: "+err.Error())
		}
		if out.Data, err = structpb.NewValue(x); err != nil {
			return nil, status.Error(codes.Unavailable, "data: "+err.Error())
		}
	}
	return out, nil
}

// Run serves cfg until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	s, err := New(cfg)
	if err != nil {
		return err
	}
	gl, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return err
	}
	gs := grpc.NewServer()
	gatewayv1.RegisterPlatformServiceServer(gs, s)
	errc := make(chan error, 2)
	go func() { errc <- gs.Serve(gl) }()
	var hs *http.Server
	if cfg.HTTPAddr != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		hs = &http.Server{Addr: cfg.HTTPAddr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() { errc <- hs.ListenAndServe() }()
	}
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	gs.Stop()
	if hs != nil {
		_ = hs.Close()
	}
	if errors.Is(err, http.ErrServerClosed) || errors.Is(err, grpc.ErrServerStopped) {
		err = nil
	}
	return err
}

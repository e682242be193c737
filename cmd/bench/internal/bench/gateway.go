package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
)

// gatewayOptions are what differ between the server starts of one run.
type gatewayOptions struct {
	dataDir  string
	logLevel string // KWAISHOP_LOG_LEVEL
	logName  string // log file name in the work dir
	env      []string
}

// gateway is a running cmd/server (or the floor service) and the harness's
// clients of it.
type gateway struct {
	proc               *process
	bin                string // the binary, for `go tool pprof`
	grpcAddr, httpAddr string
	pprofAddr          string
	readyIn            time.Duration // process start → /readyz 200
	conns              []*grpc.ClientConn
	http               *http.Client
	bearer             string // "" without caller keys
}

// startGateway starts the server in real-credentials mode against the
// sandbox at sandboxURL and waits for /readyz.
func (h *harness) startGateway(ctx context.Context, o gatewayOptions) (*gateway, error) {
	addrs, err := freeAddrs(3)
	if err != nil {
		return nil, err
	}
	g := &gateway{bin: h.cfg.ServerBin, grpcAddr: addrs[0], httpAddr: addrs[1], pprofAddr: addrs[2], http: h.httpClient}
	env := []string{
		"KWAISHOP_GRPC_ADDR=" + g.grpcAddr,
		"KWAISHOP_HTTP_ADDR=" + g.httpAddr,
		"KWAISHOP_APP_KEY=" + h.creds.AppKey,
		"KWAISHOP_APP_SECRET=" + h.creds.AppSecret,
		"KWAISHOP_SIGN_SECRET=" + h.creds.SignSecret,
		"KWAISHOP_APP_STATE=test",
		"KWAISHOP_MESSAGE_KEY=" + h.creds.MessageKey,
		"KWAISHOP_API_BASE_URL=" + h.sandboxURL,
		"KWAISHOP_AUTHORIZE_URL=" + h.sandboxURL + "/oauth/authorize",
		"KWAISHOP_DATA_DIR=" + o.dataDir,
		"KWAISHOP_TOKEN_KEYS=" + h.creds.TokenKeys,
		"KWAISHOP_LOG_LEVEL=" + o.logLevel,
		// Reconciliation polls every stored shop; with the synthetic
		// authorizations of the memory test (tokens the sandbox never
		// issued) it would turn into a refresh storm of its own.
		"KWAISHOP_RECONCILE_INTERVAL=0",
		"KWAISHOP_PPROF_ADDR=" + g.pprofAddr,
		// The gateway keeps the app under the platform's limits (QPS per
		// API, daily quotas, in-flight cap); the sandbox's limits are lifted,
		// so lift the gateway's to numbers the benchmark cannot reach, while
		// keeping their per-call work (slot booking, quota counting).
		"KWAISHOP_API_QPS=1000000",
		"KWAISHOP_API_QPS_OVERRIDES=open.order.cursor.list=1000000/1000000",
		"KWAISHOP_DAILY_QUOTA=1000000000",
		"KWAISHOP_TEST_USER_DAILY_QUOTA=1000000000",
		"KWAISHOP_MAX_IN_FLIGHT=100000",
	}
	if h.cfg.APIKey {
		env = append(env, "KWAISHOP_API_KEYS=bench:"+h.creds.APIKey+":shop=*:rpc=*")
		g.bearer = "Bearer " + h.creds.APIKey
	}
	env = append(env, o.env...)
	env = append(env, h.cfg.ServerEnv...)
	p, err := startProcess("server", h.cfg.ServerBin, env, filepath.Join(h.cfg.WorkDir, o.logName))
	if err != nil {
		return nil, err
	}
	g.proc = p
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	at, err := waitHTTP(wctx, p, h.httpClient, "http://"+g.httpAddr+"/readyz", 2*time.Millisecond)
	if err != nil {
		p.stop(5 * time.Second)
		return nil, err
	}
	g.readyIn = at.Sub(p.started)
	if err := g.dial(h.cfg.GRPCConns); err != nil {
		g.stop()
		return nil, err
	}
	return g, nil
}

// dial opens n (at least one) client connections to the gRPC port.
func (g *gateway) dial(n int) error {
	for range max(1, n) {
		opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
		if g.bearer != "" {
			opts = append(opts, grpc.WithUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
				return invoker(metadata.AppendToOutgoingContext(ctx, "authorization", g.bearer), method, req, reply, cc, opts...)
			}))
		}
		c, err := grpc.NewClient(g.grpcAddr, opts...)
		if err != nil {
			return err
		}
		g.conns = append(g.conns, c)
	}
	return nil
}

// startFloor starts the floor service (`<FloorBin> floor`, package
// cmd/bench/internal/floor) against the sandbox with the shop's access
// token and waits until it is ready. Its HTTP port serves /readyz and pprof.
func (h *harness) startFloor(ctx context.Context, accessToken string) (*gateway, error) {
	addrs, err := freeAddrs(2)
	if err != nil {
		return nil, err
	}
	g := &gateway{bin: h.cfg.FloorBin, grpcAddr: addrs[0], pprofAddr: addrs[1], http: h.httpClient}
	p, err := startProcess("floor", h.cfg.FloorBin, []string{
		"KWAISHOP_FLOOR_GRPC_ADDR=" + g.grpcAddr,
		"KWAISHOP_FLOOR_HTTP_ADDR=" + g.pprofAddr,
		"KWAISHOP_FLOOR_BASE_URL=" + h.sandboxURL,
		"KWAISHOP_FLOOR_APP_KEY=" + h.creds.AppKey,
		"KWAISHOP_FLOOR_SIGN_SECRET=" + h.creds.SignSecret,
		"KWAISHOP_FLOOR_ACCESS_TOKEN=" + accessToken,
	}, filepath.Join(h.cfg.WorkDir, "floor.log"), "floor")
	if err != nil {
		return nil, err
	}
	g.proc = p
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	at, err := waitHTTP(wctx, p, h.httpClient, "http://"+g.pprofAddr+"/readyz", 2*time.Millisecond)
	if err != nil {
		p.stop(5 * time.Second)
		return nil, err
	}
	g.readyIn = at.Sub(p.started)
	if err := g.dial(h.cfg.GRPCConns); err != nil {
		g.stop()
		return nil, err
	}
	return g, nil
}

func (g *gateway) stop() {
	if g == nil {
		return
	}
	for _, c := range g.conns {
		_ = c.Close()
	}
	g.proc.stop(20 * time.Second)
}

func (g *gateway) conn(worker int) *grpc.ClientConn { return g.conns[worker%len(g.conns)] }

// authorize authorizes test user 1's shop through the gateway's OAuth flow:
// StartAuthorization → the sandbox's code for the user → CompleteAuthorization.
func (g *gateway) authorize(ctx context.Context, admin *Admin) (string, error) {
	scopes, err := admin.Scopes(ctx)
	if err != nil {
		return "", err
	}
	c := gatewayv1.NewAuthorizationServiceClient(g.conn(0))
	st, err := c.StartAuthorization(ctx, &gatewayv1.StartAuthorizationRequest{Scopes: scopes})
	if err != nil {
		if status.Code(err) == codes.Unauthenticated {
			return "", fmt.Errorf("bench: the server requires caller keys: run with -api-key: %w", err)
		}
		return "", fmt.Errorf("bench: start authorization: %w", err)
	}
	code, err := admin.Code(ctx, 1)
	if err != nil {
		return "", err
	}
	done, err := c.CompleteAuthorization(ctx, &gatewayv1.CompleteAuthorizationRequest{Code: code, State: st.GetState()})
	if err != nil {
		return "", fmt.Errorf("bench: complete authorization: %w", err)
	}
	if done.GetAuthorization().GetOpenId() == "" {
		return "", errors.New("bench: complete authorization returned no open_id")
	}
	return done.GetAuthorization().GetOpenId(), nil
}

func (g *gateway) grpcCall(openID, method string, params *structpb.Value) func(context.Context, int) error {
	req := &gatewayv1.CallRequest{OpenId: openID, Method: method, Params: params}
	return func(ctx context.Context, w int) error {
		resp, err := gatewayv1.NewPlatformServiceClient(g.conn(w)).Call(ctx, req)
		if err != nil {
			return err
		}
		if resp.GetResult() != 1 {
			return fmt.Errorf("bench: Call answered result %d", resp.GetResult())
		}
		return nil
	}
}

func (g *gateway) restCall(body []byte) func(context.Context, int) error {
	url := "http://" + g.httpAddr + "/v1/call"
	return func(ctx context.Context, _ int) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		if g.bearer != "" {
			req.Header.Set("Authorization", g.bearer)
		}
		resp, err := g.http.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("bench: POST /v1/call: http %d", resp.StatusCode)
		}
		return err
	}
}

func (g *gateway) listOrders(openID string, begin, end time.Time, pageSize int32) func(context.Context, int) error {
	req := &gatewayv1.ListOrdersRequest{OpenId: openID, StartTime: timestamppb.New(begin), EndTime: timestamppb.New(end), PageSize: pageSize}
	return func(ctx context.Context, w int) error {
		_, err := gatewayv1.NewOrderServiceClient(g.conn(w)).ListOrders(ctx, req)
		return err
	}
}

func (g *gateway) getAuthorization(openIDs func(worker int) string) func(context.Context, int) error {
	return func(ctx context.Context, w int) error {
		_, err := gatewayv1.NewAuthorizationServiceClient(g.conn(w)).GetAuthorization(ctx, &gatewayv1.GetAuthorizationRequest{OpenId: openIDs(w)})
		return err
	}
}

// push posts one encrypted message to the intake and checks the
// acknowledgement (HTTP 200 with {"result":1}).
func (g *gateway) push(ctx context.Context, body string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+g.httpAddr+"/callbacks/messages", bytes.NewReader([]byte(body)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain;charset=utf-8")
	resp, err := g.http.Do(req)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	_ = resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(`"result":1`)) {
		return &pushError{status: resp.StatusCode, body: string(bytes.TrimSpace(b))}
	}
	return nil
}

type pushError struct {
	status int
	body   string
}

func (e *pushError) Error() string {
	return fmt.Sprintf("bench: push answered http %d %s", e.status, e.body)
}

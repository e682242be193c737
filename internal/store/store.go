package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	// DefaultConnectTimeout is used when Config.ConnectTimeout is zero.
	DefaultConnectTimeout = 10 * time.Second
	// MaxReplicas is the largest JetStream replica count.
	MaxReplicas = 5

	clientName   = "kwaishop-gateway"
	drainTimeout = 5 * time.Second
)

// Config selects and tunes the JetStream backend.
type Config struct {
	// DataDir is the embedded store dir; the JetStream file store lives
	// in DataDir/nats. Required when NATSURL is empty.
	DataDir string
	// NATSURL, if set, connects to an external NATS (comma-separated
	// server list allowed) and no embedded server is started. It may
	// carry credentials; it is never logged or put in errors.
	NATSURL string
	// Listen is an optional "host:port" on which the embedded server
	// accepts TCP clients (port 0 picks a free port). Empty means no
	// listener at all: the Store talks to its server in-process.
	Listen string
	// Replicas is the stream/KV replica count (default 1; >1 needs an
	// external cluster).
	Replicas int
	// ConnectTimeout bounds server start-up and connecting (default 10s).
	ConnectTimeout time.Duration
	// Auth holds the credentials and TLS material for an external NATS
	// (see conn.go); only valid with NATSURL.
	Auth Auth
}

// Validate reports every violation, each wrapping ErrInvalidConfig.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if c.NATSURL == "" {
		if strings.TrimSpace(c.DataDir) == "" {
			bad("data dir is required for the embedded server")
		}
	} else {
		if err := validateURLs(c.NATSURL); err != nil {
			bad("nats url: %v", err)
		}
		if c.Listen != "" {
			bad("listen is only valid for the embedded server (nats url is set)")
		}
		if !c.Auth.IsZero() && urlHasUserInfo(c.NATSURL) {
			bad("credentials are given twice: in the nats url and in the auth settings")
		}
		if err := c.Auth.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.NATSURL == "" && !c.Auth.IsZero() {
		bad("nats credentials and TLS settings are only valid with an external NATS (nats url)")
	}
	if c.Listen != "" {
		if _, _, err := splitListen(c.Listen); err != nil {
			bad("listen %q: %v", c.Listen, err)
		}
	}
	switch {
	case c.Replicas < 0 || c.Replicas > MaxReplicas:
		bad("replicas must be between 1 and %d", MaxReplicas)
	case c.Replicas > 1 && c.NATSURL == "":
		bad("replicas > 1 require an external NATS cluster (nats url)")
	}
	if c.ConnectTimeout < 0 {
		bad("connect timeout must not be negative")
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	return c
}

// validateURLs checks a comma-separated NATS server list without echoing
// any part of it (it may contain credentials).
func validateURLs(s string) error {
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return fmt.Errorf("server %d is empty", i+1)
		}
		if !strings.Contains(part, "://") {
			part = "nats://" + part
		}
		u, err := url.Parse(part)
		if err != nil {
			return fmt.Errorf("server %d is not a valid url", i+1)
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return fmt.Errorf("server %d: scheme must be nats, tls, ws or wss", i+1)
		}
		if u.Hostname() == "" {
			return fmt.Errorf("server %d has no host", i+1)
		}
	}
	return nil
}

func splitListen(s string) (string, int, error) {
	host, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, errors.New("want host:port")
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, errors.New("port must be 0-65535")
	}
	return host, port, nil
}

// Store is a connection to JetStream, optionally owning the embedded
// server. Close releases both.
type Store struct {
	cfg       Config
	log       *slog.Logger
	srv       *server.Server // nil with an external NATS
	nc        *nats.Conn
	js        jetstream.JetStream
	clientURL string
	closed    chan struct{} // closed by the conn's ClosedHandler

	closeOnce sync.Once
	closeErr  error
}

// Open validates cfg, starts the embedded server unless cfg.NATSURL is
// set, connects and checks that JetStream answers. The embedded server
// runs JetStream with a file store in DataDir/nats, fsyncs every write
// (SyncAlways), installs no signal handlers and logs warnings/errors to
// log. A nil log discards.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()

	s := &Store{cfg: cfg, log: log, closed: make(chan struct{})}
	opts := []nats.Option{
		nats.Name(clientName),
		nats.Timeout(cfg.ConnectTimeout),
		nats.ClosedHandler(func(*nats.Conn) { close(s.closed) }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("store: nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("store: nats reconnected", "server", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			log.Warn("store: nats async error", "err", err)
		}),
	}

	var connectURL string
	if cfg.NATSURL != "" {
		connectURL = cfg.NATSURL
		s.clientURL = cfg.NATSURL
		opts = append(opts, nats.MaxReconnects(-1))
		authOpts, err := cfg.Auth.options() // validated above
		if err != nil {
			return nil, err
		}
		opts = append(opts, authOpts...)
	} else {
		srv, err := startEmbedded(ctx, cfg, log)
		if err != nil {
			return nil, err
		}
		s.srv = srv
		if cfg.Listen != "" {
			s.clientURL = listenURL(srv)
			connectURL = s.clientURL
		} else {
			connectURL = srv.ClientURL() // placeholder; the conn is in-process
			opts = append(opts, nats.InProcessServer(srv))
		}
	}

	nc, err := nats.Connect(connectURL, opts...)
	if err != nil {
		s.shutdownServer()
		// nats errors do not include the URL; do not add it (credentials).
		return nil, fmt.Errorf("store: connect: %w%s", err, connectHint(err))
	}
	s.nc = nc
	js, err := jetstream.New(nc)
	if err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("store: jetstream: %w", err)
	}
	s.js = js
	if err := s.Ready(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	if s.srv != nil {
		log.Info("store: embedded nats started", "store_dir", filepath.Join(cfg.DataDir, "nats"), "client_url", s.clientURL)
	} else {
		_, tlsErr := nc.TLSConnectionState()
		log.Info("store: connected to nats", "server", nc.ConnectedUrlRedacted(), "auth", cfg.Auth.Method(), "tls", tlsErr == nil)
		if tlsErr != nil && !cfg.Auth.Password.Empty() {
			log.Warn("store: the nats password is sent in plain text: give the connection a CA (TLS) or use nkeys")
		}
	}
	return s, nil
}

func startEmbedded(ctx context.Context, cfg Config, log *slog.Logger) (*server.Server, error) {
	storeDir := filepath.Join(cfg.DataDir, "nats")
	if err := os.MkdirAll(storeDir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create store dir: %w", err)
	}
	opts := &server.Options{
		ServerName: clientName,
		JetStream:  true,
		StoreDir:   storeDir,
		SyncAlways: true,
		NoSigs:     true,
		NoLog:      true, // we install our own slog adapter below
		MaxPayload: 1 << 20,
	}
	if cfg.Listen == "" {
		opts.DontListen = true
	} else {
		host, port, _ := splitListen(cfg.Listen) // validated
		if port == 0 {
			port = server.RANDOM_PORT
		}
		opts.Host, opts.Port = host, port
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("store: embedded nats: %w", err)
	}
	srv.SetLoggerV2(&slogAdapter{log: log.With("component", "nats-server")}, false, false, false)
	srv.Start()
	for !srv.ReadyForConnections(50 * time.Millisecond) {
		if ctx.Err() != nil {
			srv.Shutdown()
			srv.WaitForShutdown()
			return nil, fmt.Errorf("store: embedded nats not ready: %w", ctx.Err())
		}
		if !srv.Running() {
			srv.WaitForShutdown()
			return nil, errors.New("store: embedded nats failed to start (see log)")
		}
	}
	if !srv.JetStreamEnabled() {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, errors.New("store: embedded nats: jetstream failed to start (see log)")
	}
	return srv, nil
}

// listenURL is the URL clients use to reach srv's TCP listener; an
// unspecified bind address (0.0.0.0, ::) is replaced by loopback.
func listenURL(srv *server.Server) string {
	addr, ok := srv.Addr().(*net.TCPAddr)
	if !ok || addr == nil {
		return srv.ClientURL()
	}
	ip := addr.IP
	switch {
	case ip == nil || ip.IsUnspecified() && ip.To4() != nil:
		ip = net.IPv4(127, 0, 0, 1)
	case ip.IsUnspecified():
		ip = net.IPv6loopback
	}
	return "nats://" + net.JoinHostPort(ip.String(), strconv.Itoa(addr.Port))
}

// Conn is the underlying NATS connection.
func (s *Store) Conn() *nats.Conn { return s.nc }

// JetStream is the JetStream context on Conn.
func (s *Store) JetStream() jetstream.JetStream { return s.js }

// Replicas is the effective stream/KV replica count.
func (s *Store) Replicas() int { return s.cfg.Replicas }

// Embedded reports whether the Store runs its own nats-server.
func (s *Store) Embedded() bool { return s.srv != nil }

// ClientURL is the embedded server's client URL if it listens on TCP,
// else the external NATS URL (which may contain credentials: do not log
// it), else "".
func (s *Store) ClientURL() string { return s.clientURL }

// TokenStore opens the token bucket on this Store with its replica count.
func (s *Store) TokenStore(ctx context.Context, ring *Keyring) (*TokenStore, error) {
	return NewTokenStore(ctx, s.js, ring, s.cfg.Replicas)
}

// Ready returns nil when the connection is up and JetStream answers. If
// ctx has no deadline, the connect timeout applies.
func (s *Store) Ready(ctx context.Context) error {
	if s.nc == nil || s.nc.IsClosed() {
		return ErrClosed
	}
	if !s.nc.IsConnected() {
		return fmt.Errorf("store: not ready: nats connection is %s", s.nc.Status())
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.ConnectTimeout)
		defer cancel()
	}
	if _, err := s.js.AccountInfo(ctx); err != nil {
		return fmt.Errorf("store: not ready: jetstream: %w", err)
	}
	return nil
}

// Close drains the connection, then shuts the embedded server down and
// waits for it to stop. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.nc != nil {
			if err := s.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
				s.closeErr = fmt.Errorf("store: drain: %w", err)
				s.nc.Close()
			}
			select {
			case <-s.closed:
			case <-time.After(drainTimeout):
				s.nc.Close()
				s.log.Warn("store: drain timed out; connection closed")
			}
		}
		s.shutdownServer()
	})
	return s.closeErr
}

func (s *Store) shutdownServer() {
	if s.srv == nil {
		return
	}
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
	s.log.Info("store: embedded nats stopped")
}

// slogAdapter routes nats-server logs to slog: warnings and errors only
// (notices at debug). Debug/trace are disabled on the server side.
type slogAdapter struct{ log *slog.Logger }

func (a *slogAdapter) Noticef(format string, v ...any) {
	if a.log.Enabled(context.Background(), slog.LevelDebug) {
		a.log.Debug(fmt.Sprintf(format, v...))
	}
}
func (a *slogAdapter) Warnf(format string, v ...any)  { a.log.Warn(fmt.Sprintf(format, v...)) }
func (a *slogAdapter) Fatalf(format string, v ...any) { a.log.Error(fmt.Sprintf(format, v...)) }
func (a *slogAdapter) Errorf(format string, v ...any) { a.log.Error(fmt.Sprintf(format, v...)) }
func (a *slogAdapter) Debugf(format string, v ...any) {}
func (a *slogAdapter) Tracef(format string, v ...any) {}

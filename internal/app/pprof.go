package app

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// newPprof serves net/http/pprof on addr (KWAISHOP_PPROF_ADDR; config
// allows loopback addresses only) for profiling, e.g. by `make bench`. It is
// off by default (addr "": nothing to stop) and separate from the public
// HTTP port. The returned function stops it.
func newPprof(addr string, log *slog.Logger) (func(), error) {
	if addr == "" {
		return nil, nil
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("app: listen pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(lis) }()
	log.Warn("pprof profiling endpoint enabled", "addr", lis.Addr().String())
	return func() { _ = srv.Close() }, nil
}

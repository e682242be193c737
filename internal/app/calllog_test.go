package app

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// callLogLines runs one call through the call log at level lvl and returns
// the JSON lines written.
func callLogLines(t *testing.T, lvl slog.Level, took time.Duration, err error) []map[string]any {
	t.Helper()
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: lvl}))
	rpcLog := logging.LoggerFunc(func(ctx context.Context, l logging.Level, msg string, fields ...any) {
		log.Log(ctx, slog.Level(l), msg, fields...)
	})
	ic := callLogUnary(log, rpcLog, []logging.Option{logging.WithLogOnEvents(logging.FinishCall)})
	ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4242}})
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	info := &grpc.UnaryServerInfo{FullMethod: "/kwaishop.gateway.v1.PlatformService/Call"}
	resp, gotErr := ic(ctx, "req", info, func(context.Context, any) (any, error) {
		time.Sleep(took)
		if err != nil {
			return nil, err
		}
		return "resp", nil
	})
	if gotErr != err || (err == nil && resp != "resp") {
		t.Fatalf("the call returned %v, %v", resp, gotErr)
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		m := map[string]any{}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		lines = append(lines, m)
	}
	return lines
}

// Below info the call log builds nothing for calls it does not write, and
// writes the calls it does (warn and error codes) with the same fields as
// at info, their real start time and duration included.
func TestCallLog_QuietLevelsWriteTheSameLines(t *testing.T) {
	if got := callLogLines(t, slog.LevelWarn, 0, nil); len(got) != 0 {
		t.Fatalf("an OK call at warn: %v", got)
	}
	if got := callLogLines(t, slog.LevelWarn, 0, status.Error(codes.InvalidArgument, "bad")); len(got) != 0 {
		t.Fatalf("an InvalidArgument call (info) at warn: %v", got)
	}
	if got := callLogLines(t, slog.LevelError, 0, status.Error(codes.Unavailable, "down")); len(got) != 0 {
		t.Fatalf("an Unavailable call (warn) at error: %v", got)
	}
	if got := callLogLines(t, slog.LevelInfo, 0, nil); len(got) != 1 || got[0]["grpc.code"] != "OK" {
		t.Fatalf("an OK call at info: %v", got)
	}

	const took = 30 * time.Millisecond
	for _, c := range []struct {
		lvl slog.Level
		err error
	}{
		{slog.LevelWarn, status.Error(codes.Unavailable, "down")},
		{slog.LevelError, status.Error(codes.Internal, "broken")},
	} {
		before := time.Now().Truncate(time.Second)
		quiet := callLogLines(t, c.lvl, took, c.err)
		loud := callLogLines(t, slog.LevelDebug, took, c.err)
		if len(quiet) != 1 || len(loud) != 1 {
			t.Fatalf("%v at %v: %d lines, at debug %d, want 1 each", c.err, c.lvl, len(quiet), len(loud))
		}
		q, l := quiet[0], loud[0]
		if !slices.Equal(slices.Sorted(maps.Keys(q)), slices.Sorted(maps.Keys(l))) {
			t.Fatalf("fields at %v %v, at debug %v", c.lvl, slices.Sorted(maps.Keys(q)), slices.Sorted(maps.Keys(l)))
		}
		for k, v := range l {
			switch k {
			case "time", "grpc.start_time", "grpc.time_ms", "grpc.request.deadline":
				continue
			}
			if q[k] != v {
				t.Fatalf("%s = %v at %v, %v at debug", k, q[k], c.lvl, v)
			}
		}
		ms, err := strconv.ParseFloat(q["grpc.time_ms"].(string), 64)
		if err != nil || ms < float64(took.Milliseconds()) {
			t.Fatalf("grpc.time_ms = %v, want the call's real duration (>= %d)", q["grpc.time_ms"], took.Milliseconds())
		}
		start, err := time.Parse(time.RFC3339, q["grpc.start_time"].(string))
		if err != nil || start.Before(before) || start.After(time.Now()) {
			t.Fatalf("grpc.start_time = %v (%v)", q["grpc.start_time"], err)
		}
		if q["peer.address"] != "127.0.0.1:4242" || q["grpc.method"] != "Call" || q["msg"] != "finished call" {
			t.Fatalf("line %v", q)
		}
	}
}

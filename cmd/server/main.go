// Command server runs kwaishop-gateway. With no app credentials it serves the
// embedded platform sandbox and an embedded NATS store, so `go run
// ./cmd/server` is a complete local setup.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/app"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context, args []string) error {
	cfg, err := config.Load(args, os.Getenv, os.Stderr)
	if err != nil {
		return err
	}
	return app.Run(ctx, cfg, app.Options{Banner: os.Stderr})
}

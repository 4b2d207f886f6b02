package main

import (
	"context"
	"log/slog"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/config"
	"github.com/pctx-dev/pctx/internal/runtime"
	"github.com/pctx-dev/pctx/internal/upstream"
)

// stack is everything behind the three tools: the catalog, the upstream sessions feeding
// it and the service answering from it.
type stack struct {
	catalog   *catalog.Catalog
	upstreams *upstream.Manager
	codemode  *codemode.Service
}

// openStack loads the config and connects every upstream concurrently. A failing upstream
// is logged and listed as unavailable; it does not fail the stack.
func openStack(ctx context.Context, configFlag string, logger *slog.Logger) (*stack, error) {
	cfg, err := config.Resolve(configFlag)
	if err != nil {
		return nil, err
	}
	return newStack(ctx, cfg, logger), nil
}

func newStack(ctx context.Context, cfg *config.Config, logger *slog.Logger) *stack {
	cat := catalog.New()
	mgr := upstream.NewManager(cat, cfg.Servers, logger)
	mgr.Start(ctx)
	return &stack{
		catalog:   cat,
		upstreams: mgr,
		codemode:  codemode.New(cat, runtimeLimits(cfg.Runtime), codemode.WithMaxConcurrent(cfg.Server.MaxExecutions)),
	}
}

func (s *stack) Close() error { return s.upstreams.Close() }

func runtimeLimits(r config.Runtime) runtime.Limits {
	return runtime.Limits{
		Timeout:          r.Timeout,
		MaxMemory:        r.MaxMemory,
		MaxStackDepth:    r.MaxStackDepth,
		MaxCalls:         r.MaxCalls,
		MaxCallsInFlight: r.MaxCallsInFlight,
		MaxConsoleBytes:  int(r.MaxConsoleBytes),
		MaxResultBytes:   int(r.MaxResultBytes),
	}
}

// Command go-worker exposes two Go functions to pctx's Code Mode agents:
// infra.list_services and infra.restart_service, over an in-memory service registry.
//
//	pctx start &
//	go run ./examples/go-worker -url http://127.0.0.1:8080
//
// An agent can then run, through execute_typescript:
//
//	const services = await infra.list_services({});
//	const down = services.filter(s => s.status !== "running");
//	return await Promise.all(down.map(s => infra.restart_service({ service: s.name as "api" | "worker" | "db" })));
//
// (list_services types name as a string, restart_service takes one of three: without
// the cast the type check refuses the program.)
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"
	"time"

	pctxsdk "github.com/pctx-dev/pctx/sdk/go"
)

// Service is one entry of the registry.
type Service struct {
	Name     string    `json:"name"`
	Status   string    `json:"status" jsonschema:"running, degraded or stopped"`
	Restarts int       `json:"restarts"`
	Since    time.Time `json:"since" jsonschema:"when the service entered its status"`
}

// RestartInput is restart_service's argument object.
type RestartInput struct {
	Service string `json:"service" jsonschema:"name of the service to restart" enum:"api,worker,db"`
	Force   bool   `json:"force,omitempty" jsonschema:"restart at once, without draining connections"`
}

// ListInput is list_services's argument object.
type ListInput struct {
	Status string `json:"status,omitempty" jsonschema:"only services with this status" enum:"running,degraded,stopped"`
}

type registry struct {
	mu       sync.Mutex
	services map[string]*Service
}

func (r *registry) list(_ context.Context, in ListInput) ([]Service, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := []Service{}
	for _, s := range r.services {
		if in.Status == "" || s.Status == in.Status {
			out = append(out, *s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (r *registry) restart(ctx context.Context, in RestartInput) (Service, error) {
	if !in.Force {
		// A graceful restart drains connections first; the agent's deadline still applies.
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return Service{}, fmt.Errorf("restart %s: %w", in.Service, context.Cause(ctx))
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.services[in.Service]
	if !ok {
		return Service{}, fmt.Errorf("no service %q", in.Service)
	}
	s.Status, s.Since = "running", time.Now().UTC()
	s.Restarts++
	return *s, nil
}

func main() {
	url := flag.String("url", "http://127.0.0.1:8080", "pctx base URL (its worker websocket is /ws under it)")
	apiKey := flag.String("api-key", os.Getenv("PCTX_API_KEY"), "pctx API key, if the server has one (default $PCTX_API_KEY)")
	scope := flag.String("scope", "global", `"global" (every agent sees infra.*) or "session" (only this process's own programs)`)
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	now := time.Now().UTC()
	reg := &registry{services: map[string]*Service{
		"api":    {Name: "api", Status: "running", Since: now},
		"worker": {Name: "worker", Status: "degraded", Since: now},
		"db":     {Name: "db", Status: "stopped", Since: now},
	}}

	w := pctxsdk.New(*url, pctxsdk.WithAPIKey(*apiKey), pctxsdk.WithScope(pctxsdk.Scope(*scope)), pctxsdk.WithLogger(log))
	if err := w.Namespace("infra", pctxsdk.NamespaceOptions{Description: "Services of the demo infrastructure"}); err != nil {
		fail(err)
	}
	if err := pctxsdk.Register(w, "infra", "list_services", "List services and their status", reg.list); err != nil {
		fail(err)
	}
	if err := pctxsdk.Register(w, "infra", "restart_service", "Restart a service by name", reg.restart); err != nil {
		fail(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := w.Run(ctx); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "go-worker:", err)
	os.Exit(1)
}

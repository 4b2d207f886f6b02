package pctxsdk_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"

	pctxsdk "github.com/pctx-dev/pctx/sdk/go"
)

type RestartInput struct {
	Service string `json:"service" jsonschema:"name of the service to restart" enum:"api,worker,db"`
	Force   bool   `json:"force,omitempty" jsonschema:"skip the graceful drain"`
}

type RestartResult struct {
	Service   string `json:"service"`
	Restarted bool   `json:"restarted"`
}

// A worker exposing one Go function to agents, served until the process is interrupted.
func Example() {
	w := pctxsdk.New("http://localhost:8080", pctxsdk.WithAPIKey(os.Getenv("PCTX_API_KEY")))
	err := pctxsdk.Register(w, "infra", "restart_service", "Restart a service by name",
		func(ctx context.Context, in RestartInput) (RestartResult, error) {
			if in.Service == "db" && !in.Force {
				return RestartResult{}, errors.New("db restarts need force")
			}
			return RestartResult{Service: in.Service, Restarted: true}, nil
		})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := w.Run(ctx); err != nil {
		log.Fatal(err)
	}
}

// Running a Code Mode program from Go, beside the worker's own tools.
func ExampleWorker_Execute() {
	w := pctxsdk.New("http://localhost:8080")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		if err := w.Run(ctx); err != nil {
			log.Print(err)
		}
	}()
	res, err := w.Execute(ctx, `return (await everything.get_sum({ a: 2, b: 3 }))`)
	if err != nil {
		log.Fatal(err) // no connection, or ctx ended
	}
	if err := res.Err(); err != nil {
		log.Fatal(err) // the program threw
	}
	fmt.Println(string(res.Value))
}

// A session-scoped namespace: only this worker's own programs see it.
func ExampleWorker_Namespace() {
	w := pctxsdk.New("http://localhost:8080")
	_ = w.Namespace("scratch", pctxsdk.NamespaceOptions{
		Description: "Helpers for this process only",
		Scope:       pctxsdk.ScopeSession,
	})
	_ = pctxsdk.Register(w, "scratch", "double", "Doubles n",
		func(ctx context.Context, in struct {
			N int `json:"n"`
		}) (int, error) {
			return 2 * in.N, nil
		}, pctxsdk.Positional()) // called as scratch.double(21)
}

// The schemas Register derives from Go types, as pctx receives them.
func ExampleRegister() {
	type Input struct {
		Service string   `json:"service" jsonschema:"name of the service to restart" enum:"api,worker,db"`
		Force   bool     `json:"force,omitempty" jsonschema:"skip the graceful drain"`
		Regions []string `json:"regions,omitempty" enum:"eu,us"`
	}
	w := pctxsdk.New("http://localhost:8080")
	err := pctxsdk.Register(w, "infra", "restart_service", "Restart a service by name",
		func(ctx context.Context, in Input) (RestartResult, error) {
			return RestartResult{Service: in.Service, Restarted: true}, nil
		})
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range w.Definitions() {
		fmt.Printf("%s.%s (%s)\ninput:  %s\noutput: %s\n", d.Namespace, d.Name, d.Scope, d.InputSchema, d.OutputSchema)
	}
	// Output:
	// infra.restart_service (global)
	// input:  {"type":"object","properties":{"service":{"type":"string","description":"name of the service to restart","enum":["api","worker","db"]},"force":{"type":"boolean","description":"skip the graceful drain"},"regions":{"type":["null","array"],"items":{"type":"string","enum":["eu","us"]}}},"required":["service"],"additionalProperties":false}
	// output: {"type":"object","properties":{"service":{"type":"string"},"restarted":{"type":"boolean"}},"required":["service","restarted"],"additionalProperties":false}
}

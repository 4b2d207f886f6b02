// Package codemode is what the three Code Mode tools do, independent of the wire that
// carries them: the MCP server (server/) and the SDK websocket (sdkbridge/) both call it,
// so a model sees the same descriptions and the same texts whichever way it comes in.
package codemode

import (
	"context"
	"fmt"

	"github.com/pctx-dev/pctx/catalog"
	"github.com/pctx-dev/pctx/runtime"
)

// Service answers list_functions, get_function_details and execute_typescript over one
// catalog. It is safe for concurrent use.
type Service struct {
	cat    *catalog.Catalog
	limits runtime.Limits
}

// New returns a Service over cat; every execution is bounded by limits (zero fields mean
// the runtime's defaults).
func New(cat *catalog.Catalog, limits runtime.Limits) *Service {
	return &Service{cat: cat, limits: limits}
}

// Catalog returns the catalog the service reads.
func (s *Service) Catalog() *catalog.Catalog { return s.cat }

// snapshot returns the catalog as it is now, plus session-scoped namespaces visible only
// to the caller.
func (s *Service) snapshot(session []catalog.Namespace) (*catalog.Snapshot, error) {
	snap := s.cat.Snapshot()
	if len(session) == 0 {
		return snap, nil
	}
	return snap.With(session...)
}

// ListFunctions renders the list_functions text.
func (s *Service) ListFunctions(opts catalog.ListOptions, session ...catalog.Namespace) (string, error) {
	snap, err := s.snapshot(session)
	if err != nil {
		return "", err
	}
	return snap.List(opts), nil
}

// FunctionDetails renders the get_function_details text for "ns.fn" names.
func (s *Service) FunctionDetails(names []string, session ...catalog.Namespace) (string, error) {
	if len(names) == 0 {
		return "", fmt.Errorf("no functions named: pass names like \"namespace.function\" as listed by list_functions")
	}
	snap, err := s.snapshot(session)
	if err != nil {
		return "", err
	}
	return snap.Details(names)
}

// Execute runs code once against the catalog as it is now. The returned error is only for
// a failure to start (a session overlay conflict); the program's own failure is
// Result.Error.
func (s *Service) Execute(ctx context.Context, code string, session ...catalog.Namespace) (*runtime.Result, error) {
	snap, err := s.snapshot(session)
	if err != nil {
		return nil, err
	}
	return runtime.Execute(ctx, code, snap.Functions(), s.limits), nil
}

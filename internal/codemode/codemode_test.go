package codemode_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/sandbox/sandboxtest"
)

func TestMaxConcurrent(t *testing.T) {
	cat := catalog.New()
	entered, release := make(chan struct{}), make(chan struct{})
	err := cat.Put("test", catalog.Namespace{Name: "slow", Tools: []catalog.Tool{{
		Name: "wait",
		Call: func(context.Context, map[string]any) (any, error) {
			entered <- struct{}{}
			<-release
			return nil, nil
		},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	svc := codemode.New(cat, &codemode.Options{Executor: sandboxtest.New(t), MaxConcurrent: 1})
	done := make(chan error, 1)
	go func() {
		_, err := svc.Execute(context.Background(), "await slow.wait({})")
		done <- err
	}()
	select {
	case <-entered:
	case err := <-done:
		t.Fatalf("first execution ended before its call: %v", err)
	}
	if _, err := svc.Execute(context.Background(), "return 1"); !errors.Is(err, codemode.ErrBusy) {
		t.Fatalf("second execution: err = %v, want ErrBusy", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	res, err := svc.Execute(context.Background(), "return 1")
	if err != nil || fmt.Sprintf("%s", res.Value) != "1" {
		t.Fatalf("after the first finished: %v %v", res.Value, err)
	}
}

func TestToolsMatchNames(t *testing.T) {
	var names []string
	for _, tool := range codemode.Tools() {
		names = append(names, tool.Name)
		if tool.Description == "" || len(tool.InputSchema) == 0 {
			t.Errorf("%s lacks a description or schema", tool.Name)
		}
	}
	want := []string{codemode.ListFunctionsName, codemode.FunctionDetailsName, codemode.ExecuteTypeScriptName}
	if len(names) != 3 || names[0] != want[0] || names[1] != want[1] || names[2] != want[2] {
		t.Fatalf("tools = %v, want %v", names, want)
	}
}

func TestDiscoveryInputBounds(t *testing.T) {
	svc := codemode.New(catalog.New(), &codemode.Options{Executor: sandboxtest.New(t)})
	many := make([]string, codemode.MaxDetailNames+1)
	for i := range many {
		many[i] = "ns.fn"
	}
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"long query", func() error {
			_, err := svc.ListFunctions(catalog.ListOptions{Query: strings.Repeat("q", codemode.MaxQueryBytes+1)})
			return err
		}, "query: at most"},
		{"too many names", func() error { _, err := svc.FunctionDetails(many); return err }, "at most 64 per request"},
		{"long name", func() error {
			_, err := svc.FunctionDetails([]string{"ns." + strings.Repeat("f", codemode.MaxFunctionBytes)})
			return err
		}, "longer than any function's"},
		{"no names", func() error { _, err := svc.FunctionDetails(nil); return err }, "no functions named"},
		{"unknown name", func() error { _, err := svc.FunctionDetails([]string{"ns.fn"}); return err }, `unknown function "ns.fn"`},
	}
	for _, tt := range tests {
		if err := tt.call(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tt.name, err, tt.want)
		}
	}
}

// TestNaming: the convention applies to every answer, and a Named view shares the
// service's execution caps.
func TestNaming(t *testing.T) {
	cat := catalog.New()
	entered, release := make(chan struct{}), make(chan struct{})
	err := cat.Put("test", catalog.Namespace{Name: "my_tools", Tools: []catalog.Tool{
		{Name: "add_numbers", Call: func(_ context.Context, args map[string]any) (any, error) {
			return args["a"].(int64) + args["b"].(int64), nil
		}},
		{Name: "wait_here", Call: func(context.Context, map[string]any) (any, error) {
			entered <- struct{}{}
			<-release
			return nil, nil
		}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	camel := codemode.New(cat, &codemode.Options{Executor: sandboxtest.New(t), Naming: catalog.NamingCamel, MaxConcurrent: 1})
	registered := camel.Named(catalog.NamingRegistered)
	for _, tt := range []struct {
		svc           *codemode.Service
		list, details string
		code          string
	}{
		{camel, "namespace MyTools {\n  addNumbers()", "MyTools.addNumbers", "return await MyTools.addNumbers({a: 1, b: 2})"},
		{registered, "namespace my_tools {\n  add_numbers()", "my_tools.add_numbers", "return await my_tools.add_numbers({a: 1, b: 2})"},
	} {
		list, err := tt.svc.ListFunctions(catalog.ListOptions{})
		if err != nil || !strings.Contains(list, tt.list) {
			t.Errorf("ListFunctions = %q, %v; want %q", list, err, tt.list)
		}
		if d, err := tt.svc.FunctionDetails([]string{tt.details}); err != nil || !strings.Contains(d, "function "+tt.details[strings.Index(tt.details, ".")+1:]+"(") {
			t.Errorf("FunctionDetails(%q) = %q, %v", tt.details, d, err)
		}
		res, err := tt.svc.Execute(context.Background(), tt.code)
		if err != nil || res.Error != nil || fmt.Sprintf("%s", res.Value) != "3" {
			t.Errorf("Execute(%q) = %+v, %v", tt.code, res, err)
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := camel.Execute(context.Background(), "await MyTools.waitHere()")
		done <- err
	}()
	<-entered
	if _, err := registered.Execute(context.Background(), "return 1"); !errors.Is(err, codemode.ErrBusy) {
		t.Errorf("a Named view should share the execution cap, got %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

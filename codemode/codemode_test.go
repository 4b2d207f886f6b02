package codemode_test

import (
	"context"
	"errors"
	"testing"

	"github.com/pctx-dev/pctx/catalog"
	"github.com/pctx-dev/pctx/codemode"
	"github.com/pctx-dev/pctx/runtime"
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
	svc := codemode.New(cat, runtime.Limits{}, codemode.WithMaxConcurrent(1))
	done := make(chan error, 1)
	go func() {
		_, err := svc.Execute(context.Background(), "await slow.wait({})")
		done <- err
	}()
	<-entered
	if _, err := svc.Execute(context.Background(), "return 1"); !errors.Is(err, codemode.ErrBusy) {
		t.Fatalf("second execution: err = %v, want ErrBusy", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	res, err := svc.Execute(context.Background(), "return 1")
	if err != nil || res.Value != int64(1) {
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

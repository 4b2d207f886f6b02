package clientsession_test

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/pctx-dev/pctx/internal/clientsession"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestEndRunsEveryReleaseBeforeReturning(t *testing.T) {
	s := clientsession.Begin("mcp:x")
	var ran atomic.Int32
	// Each release waits for all the others: End must run them concurrently.
	const n = 3
	var started sync.WaitGroup
	started.Add(n)
	for range n {
		if _, ok := s.OnEnd(func() { started.Done(); started.Wait(); ran.Add(1) }); !ok {
			t.Fatal("OnEnd on a live session refused")
		}
	}
	cancel, _ := s.OnEnd(func() { t.Error("a cancelled release ran") })
	cancel()
	select {
	case <-s.Done():
		t.Fatal("Done closed before End")
	default:
	}
	s.End()
	if got := ran.Load(); got != n {
		t.Fatalf("End returned after %d of %d releases", got, n)
	}
	if !s.Ended() {
		t.Error("Ended() = false after End")
	}
	<-s.Done()
	if _, ok := s.OnEnd(func() { t.Error("a release registered after End ran") }); ok {
		t.Error("OnEnd after End reported ok")
	}
	s.End() // idempotent
}

func TestConcurrentEndWaitsForTheReleases(t *testing.T) {
	s := clientsession.Begin("ws:1")
	release := make(chan struct{})
	var done atomic.Bool
	s.OnEnd(func() { <-release; done.Store(true) })
	first := make(chan struct{})
	go func() { s.End(); close(first) }()
	<-s.Done() // the first End has begun
	second := make(chan struct{})
	go func() { s.End(); close(second) }()
	close(release)
	<-second
	if !done.Load() {
		t.Error("a second End returned before the first End's releases finished")
	}
	<-first
}

func TestCancelDuringEndIsHarmless(t *testing.T) {
	s := clientsession.Begin("compat:1")
	var cancel func()
	cancel, _ = s.OnEnd(func() { cancel() }) // a release that unregisters itself, as backends do
	s.End()
}

func TestIdentity(t *testing.T) {
	a, b := clientsession.Begin("mcp:pctx-SECRET"), clientsession.Begin("mcp:pctx-SECRET")
	if a.Key() != "mcp:pctx-SECRET" {
		t.Errorf("Key = %q", a.Key())
	}
	if !regexp.MustCompile(`^[a-z2-7]{26}$`).MatchString(a.ID()) || a.ID() == b.ID() {
		t.Errorf("IDs %q and %q: want distinct, 26 lowercase letters and digits", a.ID(), b.ID())
	}
	ctx := clientsession.NewContext(context.Background(), a)
	if clientsession.FromContext(ctx) != a || clientsession.FromContext(context.Background()) != nil {
		t.Error("FromContext does not return what NewContext stored")
	}
}

// A front door begins a session, its requests carry it, and ending it releases what a
// backend held for it.
func Example() {
	s := clientsession.Begin("mcp:pctx-1")
	ctx := clientsession.NewContext(context.Background(), s)

	// A backend, deep inside a request:
	if cs := clientsession.FromContext(ctx); cs != nil {
		cs.OnEnd(func() { fmt.Println("released the state of", cs.Key()) })
	}

	s.End() // DELETE /mcp
	fmt.Println("ended")
	// Output:
	// released the state of mcp:pctx-1
	// ended
}

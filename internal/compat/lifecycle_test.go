package compat

import (
	"testing"
	"time"
)

// TestClientSessionLifecycle: a published-client session is one client session over all
// its websockets, ended by session/close, by idling out, and by Close.
func TestClientSessionLifecycle(t *testing.T) {
	h := newHarness(t, &Options{SessionIdleTTL: time.Minute})
	srv := h.compat
	closed, idle, open := mustSession(t, srv), mustSession(t, srv), mustSession(t, srv)
	a1, _ := srv.Attach(closed)
	a2, _ := srv.Attach(closed)
	cs := a1.ClientSession()
	if cs != a2.ClientSession() || cs.Key() != "compat:"+closed {
		t.Fatalf("two websockets of one session: client sessions %p (%s) and %p", cs, cs.Key(), a2.ClientSession())
	}
	a1.Detach()
	a2.Detach()
	if cs.Ended() {
		t.Fatal("the session ended when its websockets closed; it outlives them")
	}
	srv.CloseSession(closed)
	if !cs.Ended() {
		t.Error("session/close did not end the client session")
	}

	ai, _ := srv.Attach(idle)
	idleCS := ai.ClientSession()
	ai.Detach()
	ao, _ := srv.Attach(open)
	openCS := ao.ClientSession()
	defer ao.Detach() // an open websocket keeps its session alive however long it idles
	now := time.Now()
	srv.mu.Lock()
	srv.now = func() time.Time { return now.Add(2 * time.Minute) }
	srv.mu.Unlock()
	mustSession(t, srv) // expiry is checked when a session is created
	if !idleCS.Ended() {
		t.Error("an idled-out session's client session did not end")
	}
	if openCS.Ended() {
		t.Error("a session with an open websocket idled out")
	}
	_ = srv.Close()
	if !openCS.Ended() {
		t.Error("Close did not end the client session")
	}
}

package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pctx-dev/pctx/internal/server"
)

// hangCatcher bounds a wait that must end by itself; it only catches hangs (the
// connections under test close within a second; the server's idle timeout is 60 s).
const hangCatcher = 30 * time.Second

// serveLimited serves handler like pctx start does (NewHTTPServer over a ConnLimiter of
// max connections) on a loopback port, returning its address and limiter. Silent
// connections have no grace unless one is given: which ones lose their place must not
// depend on how fast the machine accepts them.
func serveLimited(t *testing.T, handler http.Handler, max int, grace ...time.Duration) (string, *server.ConnLimiter) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts := &server.ConnLimitOptions{Max: max, SilentGrace: -1, Logger: slog.New(slog.DiscardHandler)}
	if len(grace) > 0 {
		opts.SilentGrace = grace[0]
	}
	lim := server.LimitConnections(ln, opts)
	srv := server.NewHTTPServer(handler, lim, context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(lim); !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), hangCatcher)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
		<-done
	})
	return ln.Addr().String(), lim
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// request sends one HTTP/1.1 request on c and reads its response.
func request(t *testing.T, c net.Conn, r *bufio.Reader, method, path, body string) (*http.Response, string) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(hangCatcher))
	fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: %d\r\n\r\n%s", method, path, len(body), body)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// closedByServer reports whether the server closed c: a read ends with EOF (or a reset)
// rather than the hang catcher's timeout.
func closedByServer(c net.Conn, r *bufio.Reader) bool {
	_ = c.SetReadDeadline(time.Now().Add(hangCatcher))
	_, err := r.ReadByte()
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// waitOpen waits until the limiter counts want open connections.
func waitOpen(t *testing.T, lim *server.ConnLimiter, want int) {
	t.Helper()
	deadline := time.Now().Add(hangCatcher)
	for lim.Open() != want {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections open, want %d", lim.Open(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestUnauthorizedConnectionsClosed: 200 clients without the API key each get their 401
// and then their connection closed by the server, instead of an idle keep-alive
// connection it would hold for a minute; every one of them is counted closed.
func TestUnauthorizedConnectionsClosed(t *testing.T) {
	ws := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { t.Error("/ws served without the key") })
	s := server.New(newService(t), &server.Options{APIKey: "s3cret", Websocket: ws})
	handler, closeSessions := s.HTTPHandler()
	defer func() { _ = closeSessions(context.Background()) }()
	addr, lim := serveLimited(t, handler, 1000)

	const clients = 200
	var wg sync.WaitGroup
	errs := make(chan string, clients)
	for i := range clients {
		c := dial(t, addr)
		wg.Go(func() {
			r := bufio.NewReader(c)
			path := []string{"/mcp", "/ws"}[i%2]
			resp, body := request(t, c, r, "POST", path, `{"jsonrpc":"2.0","id":1,"method":"ping"}`)
			switch {
			case resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "requires its API key"):
				errs <- fmt.Sprintf("%s: %d %q", path, resp.StatusCode, body)
			case !resp.Close:
				errs <- fmt.Sprintf("%s: the 401 did not announce Connection: close", path)
			case !closedByServer(c, r):
				errs <- fmt.Sprintf("%s: the connection stayed open after the 401", path)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	waitOpen(t, lim, 0)
}

// TestConnectionCap: at most max connections are open at once. At the cap a new client
// takes the place of the longest-waiting connection not in a request (silent or idle);
// when every connection is in a request or is a websocket, the newcomer gets a 503 that
// names the limit; a flood of silent connections never raises the count past the cap.
func TestConnectionCap(t *testing.T) {
	const max = 8
	release := make(chan struct{})
	var busy sync.WaitGroup
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc("/busy", func(w http.ResponseWriter, _ *http.Request) {
		busy.Done()
		<-release
		_, _ = io.WriteString(w, "done")
	})
	mux.HandleFunc("/hijack", func(w http.ResponseWriter, _ *http.Request) {
		c, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n")
		busy.Done()
		<-release
		c.Close()
	})
	addr, lim := serveLimited(t, mux, max)

	t.Run("silent connections make room", func(t *testing.T) {
		silent := make([]net.Conn, 0, 3*max)
		for range 3 * max { // a flood of connections that never send a byte
			silent = append(silent, dial(t, addr))
			if n := lim.Open(); n > max {
				t.Fatalf("%d connections open, over the cap of %d", n, max)
			}
		}
		c := dial(t, addr)
		if resp, body := request(t, c, bufio.NewReader(c), "GET", "/ok", ""); resp.StatusCode != http.StatusOK || body != "ok" {
			t.Fatalf("a request at the cap: %d %q", resp.StatusCode, body)
		}
		// Each arrival over the cap closed the oldest silent one: all but the max-1 newest.
		// (Those the server drops only at its header timeout, so they are not waited for.)
		for i, s := range silent[:2*max+1] {
			if !closedByServer(s, bufio.NewReader(s)) {
				t.Errorf("silent connection %d of %d is still open", i, len(silent))
			}
		}
		if n := lim.Open(); n > max {
			t.Errorf("%d connections open, over the cap of %d", n, max)
		}
		for _, s := range silent {
			s.Close()
		}
		c.Close()
		waitOpen(t, lim, 0)
	})

	t.Run("busy connections are kept, newcomers refused", func(t *testing.T) {
		busy.Add(max)
		var holders []net.Conn
		for i := range max {
			c := dial(t, addr)
			path := []string{"/busy", "/hijack"}[i%2]
			fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path)
			holders = append(holders, c)
		}
		busy.Wait() // every connection is in a request or hijacked
		c := dial(t, addr)
		resp, body := request(t, c, bufio.NewReader(c), "GET", "/ok", "")
		if resp.StatusCode != http.StatusServiceUnavailable || body != fmt.Sprintf("pctx: too many open connections (the limit is %d, [server] max_connections); retry later\n", max) {
			t.Errorf("a request over the cap of busy connections: %d %q", resp.StatusCode, body)
		}
		if n := lim.Open(); n != max {
			t.Errorf("%d connections open, want the %d busy ones", n, max)
		}
		close(release)
		for _, h := range holders {
			h.Close()
		}
		waitOpen(t, lim, 0)
		c = dial(t, addr)
		if resp, _ := request(t, c, bufio.NewReader(c), "GET", "/ok", ""); resp.StatusCode != http.StatusOK {
			t.Errorf("after the busy ones closed: %d", resp.StatusCode)
		}
	})
}

// TestConnectionCapGrace: connections that have just connected keep their place at the
// cap (their request may be on its way), so a newcomer is refused rather than evicting
// them.
func TestConnectionCapGrace(t *testing.T) {
	const max = 4
	addr, lim := serveLimited(t, http.NotFoundHandler(), max, time.Hour)
	for range max {
		dial(t, addr)
	}
	waitOpen(t, lim, max)
	c := dial(t, addr)
	if resp, body := request(t, c, bufio.NewReader(c), "GET", "/", ""); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "too many open connections") {
		t.Errorf("a newcomer among young silent connections: %d %q", resp.StatusCode, body)
	}
	if n := lim.Open(); n != max {
		t.Errorf("%d connections open, want the %d silent ones kept", n, max)
	}
}

package roomcast_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/roomcast/roomcast"
	"github.com/roomcast/roomcast/internal/sioclient"
	"github.com/roomcast/roomcast/parser"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type harness struct {
	t   *testing.T
	srv *roomcast.Server
	hs  *httptest.Server
}

func newHarness(t *testing.T, opts roomcast.Options) *harness {
	t.Helper()
	srv := roomcast.NewServer(opts)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		hs.CloseClientConnections()
		hs.Close()
	})
	return &harness{t: t, srv: srv, hs: hs}
}

// newTestServer serves srv until the test ends.
func newTestServer(t *testing.T, srv *roomcast.Server) *httptest.Server {
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		hs.CloseClientConnections()
		hs.Close()
	})
	return hs
}

func (h *harness) dial() *sioclient.Client {
	h.t.Helper()
	c, err := sioclient.Dial(ctx(h.t), sioclient.URL(h.hs.URL, "/socket.io/"))
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { c.Close() })
	return c
}

// join dials and connects to nsp, returning the client and socket id.
func (h *harness) join(nsp string, auth any) (*sioclient.Client, string) {
	h.t.Helper()
	c := h.dial()
	sid, err := c.Connect(ctx(h.t), nsp, auth)
	if err != nil {
		h.t.Fatal(err)
	}
	return c, sid
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return c
}

// expectEvent waits for the next event of nsp and checks its name.
func expectEvent(t *testing.T, c *sioclient.Client, nsp, name string) []json.RawMessage {
	t.Helper()
	got, args, _, err := c.NextEvent(ctx(t), nsp)
	if err != nil {
		t.Fatalf("waiting for %q: %v", name, err)
	}
	if got != name {
		t.Fatalf("got event %q, want %q", got, name)
	}
	return args
}

// expectNothing checks that no event arrives for a short while.
func expectNothing(t *testing.T, c *sioclient.Client, nsp string) {
	t.Helper()
	short, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if name, args, _, err := c.NextEvent(short, nsp); err == nil {
		t.Fatalf("unexpected event %q %s", name, args)
	}
}

func TestConnectAndEmit(t *testing.T) {
	h := newHarness(t, roomcast.Options{})
	connected := make(chan *roomcast.Socket, 1)
	h.srv.OnConnection(func(s *roomcast.Socket) {
		s.Emit("welcome", s.ID(), []byte{1, 2})
		connected <- s
	})
	c, sid := h.join("/", map[string]string{"token": "t"})
	s := <-connected
	if s.ID() != sid || !regexp.MustCompile(`^[A-Za-z0-9_-]{20}$`).MatchString(sid) {
		t.Errorf("socket id %q, client saw %q", s.ID(), sid)
	}
	if string(s.Handshake().Auth) != `{"token":"t"}` {
		t.Errorf("auth %s", s.Handshake().Auth)
	}
	if rooms := s.Rooms(); len(rooms) != 1 || string(rooms[0]) != sid {
		t.Errorf("rooms %v, want only its own id", rooms)
	}
	args := expectEvent(t, c, "/", "welcome")
	if string(args[0]) != `"`+sid+`"` || !strings.Contains(string(args[1]), "_placeholder") {
		t.Errorf("welcome args %s", args)
	}
}

func TestReservedEventNames(t *testing.T) {
	h := newHarness(t, roomcast.Options{})
	for _, name := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		if err := h.srv.Emit(name); !errors.Is(err, roomcast.ErrReservedEvent) {
			t.Errorf("Emit(%q): %v", name, err)
		}
	}
}

func TestOperatorIsAValue(t *testing.T) {
	h := newHarness(t, roomcast.Options{})
	c1, sid1 := h.join("/", nil)
	c2, sid2 := h.join("/", nil)
	a := h.srv.To(roomcast.Room(sid1))
	ab := a.To(roomcast.Room(sid2))
	if ids := a.SocketIDs(); len(ids) != 1 || ids[0] != sid1 {
		t.Errorf("a targets %v after deriving ab", ids)
	}
	if ids := ab.SocketIDs(); len(ids) != 2 {
		t.Errorf("ab targets %v", ids)
	}
	if ids := ab.Except(roomcast.Room(sid1)).SocketIDs(); len(ids) != 1 || ids[0] != sid2 {
		t.Errorf("ab except sid1 targets %v", ids)
	}
	a.Emit("only-a")
	expectEvent(t, c1, "/", "only-a")
	expectNothing(t, c2, "/")
}

func TestHandlersRunInOrderWithoutStallingOthers(t *testing.T) {
	h := newHarness(t, roomcast.Options{})
	var mu sync.Mutex
	var order []string
	h.srv.OnConnection(func(s *roomcast.Socket) {
		s.On("slow", func(e *roomcast.Event) {
			// A handler that waits on its own client's ack: reads must go on.
			r, err := s.Timeout(2*time.Second).EmitWithAck(context.Background(), "question")
			var answer string
			if err == nil {
				r.Bind(&answer)
			}
			mu.Lock()
			order = append(order, "slow:"+answer)
			mu.Unlock()
		})
		s.On("fast", func(e *roomcast.Event) {
			mu.Lock()
			order = append(order, "fast")
			mu.Unlock()
			e.Ack("done")
		})
	})
	slow, _ := h.join("/", nil)
	other, _ := h.join("/", nil)
	slow.Emit("/", "slow")
	slow.Emit("/", "fast")

	// Another socket is served while the first one's handler waits.
	if _, err := other.EmitWithAck(ctx(t), "/", "fast"); err != nil {
		t.Fatalf("other socket stalled: %v", err)
	}
	_, _, q, err := slow.NextEvent(ctx(t), "/")
	if err != nil || !q.HasID {
		t.Fatalf("question: %v", err)
	}
	slow.Ack(q, "42")
	deadline := time.Now().Add(2 * time.Second)
	for {
		mu.Lock()
		got := slices.Clone(order)
		mu.Unlock()
		if len(got) == 3 {
			if got[0] != "fast" || got[1] != "slow:42" || got[2] != "fast" {
				t.Errorf("order %v", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("handlers ran: %v", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPanicInHandlerIsRecovered(t *testing.T) {
	h := newHarness(t, roomcast.Options{})
	errs := make(chan error, 1)
	h.srv.OnConnection(func(s *roomcast.Socket) {
		s.OnError(func(err error) { errs <- err })
		s.On("boom", func(*roomcast.Event) { panic("kaboom") })
		s.On("ping", func(e *roomcast.Event) { e.Ack("pong") })
	})
	c, _ := h.join("/", nil)
	c.Emit("/", "boom")
	if err := <-errs; !strings.Contains(err.Error(), "kaboom") {
		t.Errorf("error hook got %v", err)
	}
	if _, err := c.EmitWithAck(ctx(t), "/", "ping"); err != nil {
		t.Fatalf("socket dead after a panic: %v", err)
	}
}

func TestCatchAllAndEventMiddleware(t *testing.T) {
	h := newHarness(t, roomcast.Options{})
	seen := make(chan string, 10)
	h.srv.OnConnection(func(s *roomcast.Socket) {
		s.OnAny(func(e *roomcast.Event) { seen <- "any:" + e.Name })
		s.PrependAny(func(e *roomcast.Event) { seen <- "first:" + e.Name })
		s.Use(func(e *roomcast.Event) error {
			if e.Name == "forbidden" {
				return errors.New("not allowed")
			}
			return nil
		})
		s.On("hello", func(e *roomcast.Event) { seen <- "hello" })
		s.On("stop", func(e *roomcast.Event) { s.OffAny(); e.Ack() })
	})
	c, _ := h.join("/", nil)
	c.Emit("/", "hello")
	for _, want := range []string{"first:hello", "any:hello", "hello"} {
		if got := <-seen; got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	ack, err := c.EmitWithAck(ctx(t), "/", "forbidden")
	if err != nil || string(ack.Data) != `[{"message":"not allowed"}]` {
		t.Fatalf("refused event acked %v %v", ack, err)
	}
	// Catch-all handlers saw the refused event too.
	for _, want := range []string{"first:forbidden", "any:forbidden"} {
		if got := <-seen; got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	c.EmitWithAck(ctx(t), "/", "stop")
	<-seen // first:stop
	<-seen // any:stop
	c.EmitWithAck(ctx(t), "/", "stop")
	select {
	case got := <-seen:
		t.Errorf("catch-all still called after OffAny: %q", got)
	default:
	}
}

func TestDisconnectHooksSeeRooms(t *testing.T) {
	h := newHarness(t, roomcast.Options{})
	type seen struct {
		reason         roomcast.Reason
		before, after  int
		connectedAfter bool
	}
	got := make(chan seen, 1)
	h.srv.OnConnection(func(s *roomcast.Socket) {
		s.Join("a", "b")
		var v seen
		s.OnDisconnecting(func(r roomcast.Reason) { v.reason, v.before = r, len(s.Rooms()) })
		s.OnDisconnect(func(roomcast.Reason) {
			v.after, v.connectedAfter = len(s.Rooms()), s.Connected()
			got <- v
		})
	})
	c, _ := h.join("/", nil)
	c.Send(&parser.Packet{Type: parser.Disconnect, Namespace: "/"})
	v := <-got
	if v.reason != roomcast.ReasonClientNamespaceDisconnect || v.before != 3 || v.after != 0 || v.connectedAfter {
		t.Errorf("hooks saw %+v", v)
	}
	if n := len(h.srv.To("a").SocketIDs()); n != 0 {
		t.Errorf("room a still has %d sockets", n)
	}
}

func TestServerDisconnect(t *testing.T) {
	h := newHarness(t, roomcast.Options{})
	reasons := make(chan roomcast.Reason, 2)
	h.srv.OnConnection(func(s *roomcast.Socket) {
		s.OnDisconnect(func(r roomcast.Reason) { reasons <- r })
		s.On("leave-me", func(*roomcast.Event) { s.Disconnect(false) })
	})
	c, _ := h.join("/", nil)
	c.Emit("/", "leave-me")
	p, err := c.Next(ctx(t))
	if err != nil || p.Type != parser.Disconnect || p.Namespace != "/" {
		t.Fatalf("client got %+v %v, want a DISCONNECT", p, err)
	}
	if r := <-reasons; r != roomcast.ReasonServerNamespaceDisconnect {
		t.Errorf("reason %q", r)
	}
	// The connection stays: the client may join again.
	if _, err := c.Connect(ctx(t), "/", nil); err != nil {
		t.Errorf("reconnect to namespace: %v", err)
	}
}

func TestNamespaces(t *testing.T) {
	h := newHarness(t, roomcast.Options{})
	h.srv.Of("/admin").Use(func(_ context.Context, s *roomcast.Socket) error {
		if !strings.Contains(string(s.Handshake().Auth), `"secret"`) {
			return &roomcast.ConnectError{Message: "unauthorized", Data: map[string]int{"code": 401}}
		}
		return nil
	})
	h.srv.Of("/admin").OnConnection(func(s *roomcast.Socket) { s.Join("r") })
	h.srv.OnConnection(func(s *roomcast.Socket) { s.Join("r") })

	c := h.dial()
	_, err := c.Connect(ctx(t), "/nope", nil)
	var ce *sioclient.ConnectError
	if !errors.As(err, &ce) || string(ce.Data) != `{"message":"Invalid namespace"}` {
		t.Errorf("unknown namespace: %v", err)
	}
	_, err = c.Connect(ctx(t), "/admin", map[string]string{"token": "wrong"})
	if !errors.As(err, &ce) || string(ce.Data) != `{"message":"unauthorized","data":{"code":401}}` {
		t.Errorf("refused admin: %v", err)
	}
	if _, err := c.Connect(ctx(t), "/admin", map[string]string{"token": "secret"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Connect(ctx(t), "/", nil); err != nil {
		t.Fatal(err)
	}
	// Rooms of two namespaces over one connection are apart.
	h.srv.Of("/admin").To("r").Emit("admin-only")
	if p, err := c.Next(ctx(t)); err != nil || p.Namespace != "/admin" {
		t.Fatalf("got %+v %v", p, err)
	}
	h.srv.To("r").Emit("main-only")
	if p, err := c.Next(ctx(t)); err != nil || p.Namespace != "/" {
		t.Fatalf("got %+v %v", p, err)
	}
}

func TestDynamicNamespaces(t *testing.T) {
	h := newHarness(t, roomcast.Options{CleanupEmptyChildNamespaces: true})
	created := make(chan string, 4)
	h.srv.OnNamespaceCreated(func(ns *roomcast.Namespace) { created <- ns.Name() })
	tenants := h.srv.OfRegexp(regexp.MustCompile(`^/tenant-\w+$`))
	var order []string
	var mu sync.Mutex
	tenants.Use(func(_ context.Context, s *roomcast.Socket) error {
		mu.Lock()
		order = append(order, "parent")
		mu.Unlock()
		return nil
	})
	tenants.OnConnection(func(s *roomcast.Socket) { s.Emit("hello", s.Namespace().Name()) })
	byFunc := h.srv.OfFunc(func(name string, auth json.RawMessage) bool {
		return name == "/vip" && strings.Contains(string(auth), "gold")
	})
	byFunc.OnConnection(func(s *roomcast.Socket) { s.Emit("hello", "vip") })

	c := h.dial()
	if _, err := c.Connect(ctx(t), "/tenant-a", nil); err != nil {
		t.Fatal(err)
	}
	if args := expectEvent(t, c, "/tenant-a", "hello"); string(args[0]) != `"/tenant-a"` {
		t.Errorf("hello %s", args)
	}
	if got := <-created; got != "/tenant-a" {
		t.Errorf("created %q", got)
	}
	if _, err := c.Connect(ctx(t), "/vip", map[string]string{"tier": "silver"}); err == nil {
		t.Error("OfFunc admitted a refused auth")
	}
	c2 := h.dial()
	if _, err := c2.Connect(ctx(t), "/vip", map[string]string{"tier": "gold"}); err != nil {
		t.Error(err)
	}
	c.Send(&parser.Packet{Type: parser.Disconnect, Namespace: "/tenant-a"})
	deadline := time.Now().Add(2 * time.Second)
	for len(tenants.Children()) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("empty child namespace not removed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestBroadcastAcks(t *testing.T) {
	h := newHarness(t, roomcast.Options{})
	h.srv.OnConnection(func(s *roomcast.Socket) { s.Join("room") })
	answer, _ := h.join("/", nil)
	silent, _ := h.join("/", nil)
	go func() {
		_, _, p, err := answer.NextEvent(context.Background(), "/")
		if err == nil {
			answer.Ack(p, "yes")
		}
	}()
	replies, err := h.srv.To("room").Timeout(300*time.Millisecond).EmitWithAck(context.Background(), "q")
	if !errors.Is(err, roomcast.ErrTimeout) || len(replies) != 1 {
		t.Fatalf("replies %v err %v", replies, err)
	}
	var s string
	if replies[0].Bind(&s); s != "yes" {
		t.Errorf("reply %q", s)
	}
	_ = silent
}

func TestConnectTimeout(t *testing.T) {
	h := newHarness(t, roomcast.Options{ConnectTimeout: 100 * time.Millisecond})
	c := h.dial()
	select {
	case <-c.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("a connection that joined no namespace was kept")
	}
}

// TestConnectTimeoutAfterRefusal: a CONNECT that a middleware refuses does
// not stop the connect timeout; the connection is closed when it ends, as
// with the Node.js server.
func TestConnectTimeoutAfterRefusal(t *testing.T) {
	h := newHarness(t, roomcast.Options{ConnectTimeout: 200 * time.Millisecond})
	h.srv.Use(func(ctx context.Context, s *roomcast.Socket) error {
		return errors.New("not you")
	})
	c := h.dial()
	if _, err := c.Connect(ctx(t), "/", nil); err == nil {
		t.Fatal("the middleware's refusal did not reach the client")
	}
	select {
	case <-c.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("a connection whose only CONNECT was refused was kept")
	}
}

func TestShutdownDisconnectsSockets(t *testing.T) {
	srv := roomcast.NewServer(roomcast.Options{})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	reasons := make(chan roomcast.Reason, 1)
	srv.OnConnection(func(s *roomcast.Socket) { s.OnDisconnect(func(r roomcast.Reason) { reasons <- r }) })
	c, err := sioclient.Dial(ctx(t), sioclient.URL(hs.URL, "/socket.io/"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Connect(ctx(t), "/", nil); err != nil {
		t.Fatal(err)
	}
	if err := srv.Shutdown(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if r := <-reasons; r != roomcast.ReasonServerShutdown {
		t.Errorf("reason %q", r)
	}
	select {
	case <-c.Done():
	case <-time.After(2 * time.Second):
		t.Error("client still connected after Shutdown")
	}
}

func TestOutgoingCatchAllAndSingleAck(t *testing.T) {
	h := newHarness(t, roomcast.Options{})
	outgoing := make(chan string, 4)
	acks := make(chan [2]error, 1)
	h.srv.OnConnection(func(s *roomcast.Socket) {
		s.OnAnyOutgoing(func(e *roomcast.Event) { outgoing <- e.Name })
		s.On("twice", func(e *roomcast.Event) {
			acks <- [2]error{e.Ack(1), e.Ack(2)}
		})
		s.On("no-ack", func(e *roomcast.Event) {
			acks <- [2]error{e.Ack(), nil}
		})
	})
	c, _ := h.join("/", nil)
	h.srv.Emit("broadcast-event")
	expectEvent(t, c, "/", "broadcast-event")
	if got := <-outgoing; got != "broadcast-event" {
		t.Errorf("outgoing catch-all saw %q", got)
	}
	ack, err := c.EmitWithAck(ctx(t), "/", "twice")
	if err != nil || string(ack.Data) != "[1]" {
		t.Fatalf("ack %v %v", ack, err)
	}
	if errs := <-acks; errs[0] != nil || !errors.Is(errs[1], roomcast.ErrAlreadyAcked) {
		t.Errorf("ack errors %v", errs)
	}
	c.Emit("/", "no-ack")
	if errs := <-acks; !errors.Is(errs[0], roomcast.ErrNoAck) {
		t.Errorf("ack without request: %v", errs[0])
	}
}

func TestSocketEmitWithAckTimeout(t *testing.T) {
	h := newHarness(t, roomcast.Options{})
	got := make(chan error, 1)
	h.srv.OnConnection(func(s *roomcast.Socket) {
		go func() {
			_, err := s.Timeout(100*time.Millisecond).EmitWithAck(context.Background(), "never-answered")
			got <- err
		}()
	})
	h.join("/", nil)
	if err := <-got; !errors.Is(err, roomcast.ErrTimeout) {
		t.Errorf("got %v, want ErrTimeout", err)
	}
}

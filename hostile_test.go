package roomcast_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomcast/roomcast"
	"github.com/roomcast/roomcast/internal/sioclient"
	"github.com/roomcast/roomcast/parser"
)

// echoServer answers "echo" with its arguments and joins "room" on connection.
func echoServer(t *testing.T, opts roomcast.Options) *harness {
	h := newHarness(t, opts)
	h.srv.OnConnection(func(s *roomcast.Socket) {
		s.Join("room")
		s.On("echo", func(e *roomcast.Event) { e.Ack(e.RawArgs()) })
	})
	return h
}

func healthyEcho(t *testing.T, c *sioclient.Client, what string) {
	t.Helper()
	ack, err := c.EmitWithAck(ctx(t), "/", "echo", "still here")
	if err != nil || string(ack.Data) != `["still here"]` {
		t.Fatalf("after %s: healthy client got %v %v", what, ack, err)
	}
}

func TestHostileInputs(t *testing.T) {
	h := echoServer(t, roomcast.Options{})
	healthy, _ := h.join("/", nil)
	deep := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	// Each case closes the connection (a parse error, as the Node.js server
	// does for a packet its parser refuses), except the unknown namespace,
	// which is refused with a CONNECT_ERROR on a connection that stays open,
	// and a stray upgrade packet, which the reference server ignores too.
	const closed, ignored = "closed", "open, nothing received"
	cases := []struct{ what, raw, want string }{
		{"arguments nested 5,000 deep", `42["echo",` + deep + `]`, closed},
		{"a billion attachments", `451000000000-["echo",{"_placeholder":true,"num":0}]`, closed},
		{"a huge ack id", `4299999999999999999999999["echo"]`, closed},
		{"invalid UTF-8", "42[\"echo\",\"\xff\xfe\"]", closed},
		{"a 10,000-character namespace", "40/" + strings.Repeat("n", 10000) + ",", `{"message":"Invalid namespace"}`},
		{"an unknown packet type", `49["echo"]`, closed},
		{"event data that is not an array", `42{"echo":1}`, closed},
		{"a non-string event name", `42[{"a":1}]`, closed},
		{"a reserved event name", `42["disconnect"]`, closed},
		{"a placeholder out of range", `451-["echo",{"_placeholder":true,"num":7}]`, closed},
		{"garbage", `4}}}{{{`, closed},
		{"an empty Engine.IO message", `4`, closed},
		{"an unknown Engine.IO packet type", `x`, closed},
		{"a probe ping on an open WebSocket", `2probe`, closed},
		{"an upgrade packet on an open WebSocket", `5`, ignored},
	}
	for _, tc := range cases {
		c, _ := h.join("/", nil)
		if err := c.SendRaw(tc.raw); err != nil {
			t.Fatalf("%s: %v", tc.what, err)
		}
		// What comes back before the connection closes, or within 2 s;
		// never a hang.
		short, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		got := closed
		for {
			p, err := c.Next(short)
			if err != nil {
				if !errors.Is(err, sioclient.ErrClosed) && got == closed {
					got = ignored
				}
				break
			}
			if p.Type == parser.ConnectError {
				got = string(p.Data)
			}
		}
		cancel()
		if got != tc.want {
			t.Errorf("%s: %s, want %s", tc.what, got, tc.want)
		}
		healthyEcho(t, healthy, tc.what)
	}
}

func TestLongNamespaceGetsConnectError(t *testing.T) {
	h := echoServer(t, roomcast.Options{})
	c := h.dial()
	_, err := c.Connect(ctx(t), "/"+strings.Repeat("x", 10000), nil)
	if err == nil || !strings.Contains(err.Error(), "Invalid namespace") {
		t.Fatalf("got %v", err)
	}
	// The connection is still usable.
	if _, err := c.Connect(ctx(t), "/", nil); err != nil {
		t.Fatal(err)
	}
}

func TestDynamicNamespaceLimit(t *testing.T) {
	h := newHarness(t, roomcast.Options{MaxDynamicNamespaces: 2})
	h.srv.OfFunc(func(string, json.RawMessage) bool { return true })
	c := h.dial()
	for _, name := range []string{"/a", "/b"} {
		if _, err := c.Connect(ctx(t), name, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Connect(ctx(t), "/c", nil); err == nil || !strings.Contains(err.Error(), "Too many namespaces") {
		t.Fatalf("third namespace: %v", err)
	}
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestSlowClientIsDroppedOthersGetEverything(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	h := echoServer(t, roomcast.Options{MaxQueueBytes: 256 << 10, Logger: logger})
	reasons := make(chan roomcast.Reason, 4)
	h.srv.OnConnection(func(s *roomcast.Socket) {
		s.OnDisconnect(func(r roomcast.Reason) { reasons <- r })
	})
	slow, _ := h.join("/", nil)
	slow.Pause() // reads nothing more: its socket buffers fill up
	healthy, _ := h.join("/", nil)
	// The client sees the CONNECT answer maybe before the connection
	// handlers have joined it to the room; an echo is handled after them.
	healthyEcho(t, healthy, "joining")

	const n, size = 3000, 4096
	var got atomic.Int64
	received := make(chan int, 1)
	go func() {
		c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		for got.Load() < n {
			if _, _, _, err := healthy.NextEvent(c, "/"); err != nil {
				break
			}
			got.Add(1)
		}
		received <- int(got.Load())
	}()
	// The sender keeps at most 40 messages (160 KiB) ahead of the healthy
	// client, within its budget; the paused client falls ever further behind.
	pad := strings.Repeat("x", size)
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; i < n; i++ {
		for int64(i)-got.Load() > 40 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		h.srv.To("room").Emit("news", i, pad)
	}
	if got := <-received; got != n {
		t.Errorf("healthy client got %d of %d", got, n)
	}
	select {
	case r := <-reasons:
		if r != roomcast.ReasonTransportError {
			t.Errorf("slow client disconnected with %q", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("slow client was never dropped")
	}
	if !strings.Contains(logs.String(), "slow client") {
		t.Errorf("no log line about the slow client; logs:\n%s", logs.String())
	}
}

// pollingCycle connects over HTTP long-polling, joins "/", sends an event,
// and closes, with raw requests.
func pollingCycle(base string) error {
	get := func(q string) (string, error) {
		res, err := http.Get(base + "/socket.io/?EIO=4&transport=polling" + q)
		if err != nil {
			return "", err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			return "", fmt.Errorf("GET %d %s", res.StatusCode, b)
		}
		return string(b), err
	}
	post := func(q, body string) error {
		res, err := http.Post(base+"/socket.io/?EIO=4&transport=polling"+q, "text/plain", strings.NewReader(body))
		if err != nil {
			return err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			return fmt.Errorf("POST %d", res.StatusCode)
		}
		return nil
	}
	open, err := get("")
	if err != nil {
		return err
	}
	i := strings.Index(open, `"sid":"`)
	if i < 0 {
		return fmt.Errorf("handshake %q", open)
	}
	sid := open[i+7 : i+27]
	q := "&sid=" + sid
	if err := post(q, "40"); err != nil {
		return err
	}
	if body, err := get(q); err != nil || !strings.HasPrefix(body, "40{") {
		return fmt.Errorf("connect: %q %v", body, err)
	}
	if err := post(q, `42["cycle"]`+"\x1e1"); err != nil {
		return err
	}
	return nil
}

func TestNoLeaksAfterManyCycles(t *testing.T) {
	cycles := 10000
	if testing.Short() {
		cycles = 1000
	}
	srv := roomcast.NewServer(roomcast.Options{})
	var events atomic.Int64
	srv.OnConnection(func(s *roomcast.Socket) {
		s.Join("cycle-room")
		s.On("cycle", func(*roomcast.Event) {
			events.Add(1)
			srv.To("cycle-room").Emit("tick")
		})
	})
	h := &harness{t: t, srv: srv}
	h.hs = newTestServer(t, srv)

	measure := func() (int, uint64) {
		var ms runtime.MemStats
		for i := 0; i < 50; i++ {
			runtime.GC()
			if srv.Engine().Count() == 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		runtime.ReadMemStats(&ms)
		return runtime.NumGoroutine(), ms.HeapAlloc
	}
	run := func(n int) {
		var wg sync.WaitGroup
		var failures atomic.Int64
		work := make(chan int)
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					var err error
					if i%2 == 0 {
						err = wsCycle(h.hs.URL)
					} else {
						err = pollingCycle(h.hs.URL)
					}
					if err != nil && failures.Add(1) < 5 {
						t.Errorf("cycle %d: %v", i, err)
					}
				}
			}()
		}
		for i := 0; i < n; i++ {
			work <- i
		}
		close(work)
		wg.Wait()
		http.DefaultClient.CloseIdleConnections()
	}
	run(200) // warm up pools and the runtime
	g0, heap0 := measure()
	run(cycles)
	g1, heap1 := measure()
	t.Logf("%d cycles: goroutines %d -> %d, heap %d KiB -> %d KiB, %d events",
		cycles, g0, g1, heap0>>10, heap1>>10, events.Load())
	if g1 > g0+5 {
		t.Errorf("goroutines grew from %d to %d", g0, g1)
	}
	if heap1 > heap0+8<<20 {
		t.Errorf("heap grew from %d KiB to %d KiB", heap0>>10, heap1>>10)
	}
}

func wsCycle(base string) error {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cl, err := sioclient.Dial(c, sioclient.URL(base, "/socket.io/"))
	if err != nil {
		return err
	}
	defer cl.Close()
	if _, err := cl.Connect(c, "/", nil); err != nil {
		return err
	}
	return cl.Emit("/", "cycle")
}

package roomcast_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/roomcast/roomcast"
)

// rawSocket is a WebSocket client that writes frames byte by byte as the
// test wants, connected to namespace "/".
type rawSocket struct {
	t    *testing.T
	conn net.Conn
	r    io.Reader
}

func dialRaw(t *testing.T, h *harness) *rawSocket {
	t.Helper()
	u := "ws" + strings.TrimPrefix(h.hs.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	conn, br, _, err := ws.Dial(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &rawSocket{t: t, conn: conn, r: conn}
	if br != nil {
		c.r = io.MultiReader(br, conn)
	}
	c.r = bufio.NewReader(c.r)
	c.expect("0")
	c.conn.Write(frame("40"))
	c.expect("40")
	return c
}

// expect reads the next message and checks its start.
func (c *rawSocket) expect(prefix string) {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, _, err := wsutil.ReadServerData(struct {
		io.Reader
		io.Writer
	}{c.r, c.conn})
	if err != nil || !strings.HasPrefix(string(b), prefix) {
		c.t.Fatalf("got %.40q, %v; want %q…", b, err, prefix)
	}
}

// frame is a masked client text frame.
func frame(payload string) []byte {
	var b bytes.Buffer
	ws.WriteFrame(&b, ws.MaskFrame(ws.NewTextFrame([]byte(payload))))
	return b.Bytes()
}

// An event followed by the start of a large message that then arrives
// slowly: the event's handler runs at once, not once the large message is in.
func TestHandlerNotHeldByMessageStillArriving(t *testing.T) {
	h := newHarness(t, roomcast.Options{})
	handled := make(chan struct{}, 1)
	h.srv.OnConnection(func(s *roomcast.Socket) {
		s.On("e", func(*roomcast.Event) { handled <- struct{}{} })
	})
	c := dialRaw(t, h)
	big := frame(`42["big","` + strings.Repeat("x", 20000) + `"]`)
	c.conn.Write(append(frame(`42["e",1]`), big[:100]...))
	select {
	case <-handled:
	case <-time.After(2 * time.Second):
		t.Fatal("the event waited for the message after it")
	}
	c.conn.Write(big[100:])
}

// Events whose every write ends inside the next frame: each complete event
// is handled while the burst waits for the rest of the next.
func TestHandlersRunWhileFramesStraddleWrites(t *testing.T) {
	h := newHarness(t, roomcast.Options{})
	var handled atomic.Int64
	h.srv.OnConnection(func(s *roomcast.Socket) {
		s.On("e", func(*roomcast.Event) { handled.Add(1) })
	})
	c := dialRaw(t, h)
	const n = 30
	var stream []byte
	var mid []int // where each write ends: inside frame i
	for i := range n {
		f := frame(fmt.Sprintf(`42["e",%d]`, i))
		mid = append(mid, len(stream)+len(f)/2)
		stream = append(stream, f...)
	}
	mid[n-1] = len(stream)
	written := 0
	for i := range n {
		// This write completes event i-1 (if any) and starts event i.
		c.conn.Write(stream[written:mid[i]])
		written = mid[i]
		want := int64(i) // events 0…i-1 are complete
		if i == n-1 {
			want = n
		}
		deadline := time.Now().Add(2 * time.Second)
		for handled.Load() < want {
			if time.Now().After(deadline) {
				t.Fatalf("after write %d: %d events handled, want %d", i, handled.Load(), want)
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// Shutdown keeps to its context while a handler blocks, and returns when
// called from a handler.
func TestShutdownWithBlockedHandlers(t *testing.T) {
	srv := roomcast.NewServer(roomcast.Options{})
	hs := newTestServer(t, srv)
	h := &harness{t: t, srv: srv, hs: hs}
	release := make(chan struct{})
	defer close(release)
	stopped := make(chan time.Duration, 1)
	srv.OnConnection(func(s *roomcast.Socket) {
		s.On("block", func(*roomcast.Event) { <-release })
		s.On("stop", func(*roomcast.Event) {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			srv.Shutdown(ctx)
			stopped <- time.Since(start)
		})
	})
	blocked := dialRaw(t, h)
	blocked.conn.Write(frame(`42["block"]`))
	stopper := dialRaw(t, h)
	stopper.conn.Write(frame(`42["stop"]`))
	select {
	case d := <-stopped:
		if d > 2*time.Second {
			t.Fatalf("Shutdown took %v with a 200 ms context", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown called from a handler did not return")
	}
}

package engineio_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/roomcast/roomcast/engineio"
)

// Messages that arrive split at any byte, several in one segment, or with
// pauses between their pieces are each read once and in order: no arrival
// is missed between one read burst and the next.
func TestReadBurstsSplitAndPipelined(t *testing.T) {
	h := newEchoOnlyHarness(t)
	const clients, messages = 16, 300
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		c, _ := h.openWS()
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			var stream bytes.Buffer
			for m := range messages {
				f := ws.NewTextFrame([]byte(fmt.Sprintf("4c%d-m%d-%s", i, m, bytes.Repeat([]byte("x"), rng.IntN(300)))))
				ws.WriteFrame(&stream, ws.MaskFrame(f))
			}
			go func() {
				b := stream.Bytes()
				for len(b) > 0 {
					n := min(len(b), 1+rng.IntN(700))
					if _, err := c.conn.Write(b[:n]); err != nil {
						return
					}
					b = b[n:]
					if rng.IntN(4) == 0 {
						time.Sleep(time.Duration(rng.IntN(300)) * time.Microsecond)
					}
				}
			}()
			for m := range messages {
				got, err := c.readWithin(10 * time.Second)
				if err != nil {
					errs <- fmt.Errorf("client %d, message %d: %v", i, m, err)
					return
				}
				if want := fmt.Sprintf("4c%d-m%d-", i, m); len(got) < len(want) || got[:len(want)] != want {
					errs <- fmt.Errorf("client %d: got %.20q, want %q…", i, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// newEchoOnlyHarness serves an engineio.Server that echoes and records
// nothing: the harness's record of messages holds fewer than some tests
// send.
func newEchoOnlyHarness(t *testing.T) *harness {
	srv := engineio.NewServer(engineio.Options{}, func(s *engineio.Session) engineio.Receiver { return echoOnly{s} })
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		hs.CloseClientConnections()
		hs.Close()
	})
	return &harness{t: t, srv: srv, http: hs, url: hs.URL + "/engine.io/"}
}

type echoOnly struct{ s *engineio.Session }

func (e echoOnly) OnMessage(data []byte, binary bool) { e.s.Send(engineio.TextMessage(data)) }
func (e echoOnly) OnClose(engineio.Reason, error)     {}

// More connections than one look at the poller's instance takes (128)
// become readable at once: every one is read. A batch that filled the
// event buffer must be followed by another look before the poller waits.
func TestManyConnectionsReadableAtOnce(t *testing.T) {
	h := newEchoOnlyHarness(t)
	const clients = 400
	conns := make([]*wsClient, clients)
	frames := make([][]byte, clients)
	for i := range conns {
		conns[i], _ = h.openWS()
		var b bytes.Buffer
		ws.WriteFrame(&b, ws.MaskFrame(ws.NewTextFrame([]byte(fmt.Sprintf("4m%d", i)))))
		frames[i] = b.Bytes()
	}
	// Every message is sent before any is answered: the server is busy
	// with the first ones while the rest arrive, so they pile up ready.
	for i, c := range conns {
		if _, err := c.conn.Write(frames[i]); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range conns {
		got, err := c.readWithin(10 * time.Second)
		if want := fmt.Sprintf("4m%d", i); err != nil || got != want {
			t.Fatalf("client %d: got %q, %v; want %q", i, got, err, want)
		}
	}
}

package engineio_test

import (
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/roomcast/roomcast/engineio"
)

// What is sent to a held session waits until the hold ends, then leaves in
// the order it was sent, over WebSocket as over polling. A volatile message
// is dropped meanwhile: the session cannot take it now.
func TestHoldKeepsFramesUntilRelease(t *testing.T) {
	send := func(s *engineio.Session) {
		s.Hold()
		s.Hold() // holds nest
		s.Send(engineio.TextMessage([]byte("a")))
		s.SendNow(engineio.TextMessage([]byte("b")))
		if s.SendVolatile(engineio.TextMessage([]byte("v"))) {
			t.Error("a volatile message to a held session was queued")
		}
		s.Send(engineio.TextMessage([]byte("c")))
		s.Release()
	}

	t.Run("websocket", func(t *testing.T) {
		h := newHarness(t, engineio.Options{}, false)
		c, sid := h.openWS()
		s := h.rec.session(sid)
		send(s)
		if got, err := c.readWithin(100 * time.Millisecond); err == nil {
			t.Fatalf("got %q while the session was held", got)
		}
		s.Release()
		for _, want := range []string{"4a", "4b", "4c"} {
			if got, err := c.readWithin(2 * time.Second); err != nil || got != want {
				t.Fatalf("got %q, %v; want %q", got, err, want)
			}
		}
	})

	t.Run("polling", func(t *testing.T) {
		h := newHarness(t, engineio.Options{}, false)
		sid := h.openPolling()
		s := h.rec.session(sid)
		send(s)
		got := make(chan string, 1)
		go func() {
			_, body := h.poll(sid)
			got <- body
		}()
		select {
		case body := <-got:
			t.Fatalf("a GET got %q while the session was held", body)
		case <-time.After(100 * time.Millisecond):
		}
		s.Release()
		if body := <-got; body != "4a\x1e4b\x1e4c" {
			t.Fatalf("got %q after the release", body)
		}
	})
}

// A session the server is closing reports the reason Close gave, even when
// the client's end of the transport is seen first (here the close frame is
// held back, and the client closes on its own meanwhile), as the Node.js
// server reports "forced close".
func TestClosingSessionKeepsItsReason(t *testing.T) {
	h := newHarness(t, engineio.Options{}, false)
	c, sid := h.openWS()
	s := h.rec.session(sid)
	s.Hold()
	defer s.Release()
	s.Close()
	ws.WriteFrame(c.conn, ws.MaskFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))))
	if e := h.rec.waitClose(t, sid); e.reason != engineio.ReasonForcedClose {
		t.Errorf("reason %q, want %q", e.reason, engineio.ReasonForcedClose)
	}
}

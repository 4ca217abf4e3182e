package roomcast_test

import (
	"context"
	"testing"
	"time"

	"github.com/roomcast/roomcast"
)

// A client that has been told it is connected finds the connection
// handlers' work done, as with the Node.js server, where they run in the
// same tick as the answer is sent: a broadcast to a room the handler joined
// reaches it, however long the handler took, and after what the handler
// sent it.
func TestConnectionHandlersRunBeforeClientIsConnected(t *testing.T) {
	h := newHarness(t, roomcast.Options{})
	h.srv.OnConnection(func(s *roomcast.Socket) {
		time.Sleep(50 * time.Millisecond) // a slow handler (within ConnectHoldLimit), or one descheduled
		s.Join("late")
		s.Emit("welcome")
		// Dropped, as by the Node.js server, whose transport is busy
		// with the answer to the CONNECT when a connection handler runs.
		s.Volatile().Emit("volatile welcome")
	})
	c, _ := h.join("/", nil)
	h.srv.To("late").Emit("news")
	expectEvent(t, c, "/", "welcome")
	expectEvent(t, c, "/", "news")
}

// A connection handler that waits for its client's acknowledgement gets
// it: the hold ends when the acknowledgement is awaited, since the client
// cannot answer a packet held back.
func TestConnectionHandlerAwaitingItsClient(t *testing.T) {
	h := newHarness(t, roomcast.Options{})
	type result struct {
		reply roomcast.Reply
		err   error
	}
	got := make(chan result, 1)
	h.srv.OnConnection(func(s *roomcast.Socket) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		r, err := s.EmitWithAck(ctx, "hello")
		got <- result{r, err}
	})
	c, _ := h.join("/", nil)
	_, _, p, err := c.NextEvent(ctx(t), "/")
	if err != nil {
		t.Fatal(err)
	}
	c.Ack(p, "hi")
	r := <-got
	if r.err != nil {
		t.Fatalf("EmitWithAck in the connection handler: %v", r.err)
	}
	var s string
	if err := r.reply.Bind(&s); err != nil || s != "hi" {
		t.Fatalf("reply %v, %v; want hi", s, err)
	}
}

// A connection handler that runs for good, streaming to its socket, holds
// the connection no longer than ConnectHoldLimit.
func TestLongConnectionHandlerIsNotHeldForever(t *testing.T) {
	h := newHarness(t, roomcast.Options{})
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) }) // before the server's shutdown (cleanups run last first)
	h.srv.OnConnection(func(s *roomcast.Socket) {
		s.Emit("tick")
		<-stop
	})
	c, _ := h.join("/", nil) // fails (after 5 s) if the answer were held for good
	expectEvent(t, c, "/", "tick")
}

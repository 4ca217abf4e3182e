package roomcast_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomcast/roomcast"
	"github.com/roomcast/roomcast/internal/sioclient"
)

// Sockets given one HandlerSet share it, yet what one socket adds or removes
// afterwards stays its own.
func TestHandlerSetSharedButPerSocketChanges(t *testing.T) {
	h := newHarness(t, roomcast.Options{})
	set := roomcast.NewHandlerSet(map[string]roomcast.EventHandler{
		"who":  func(e *roomcast.Event) { e.Ack(e.Socket().ID()) },
		"echo": func(e *roomcast.Event) { e.Ack(e.RawArgs()) },
	})
	var joined atomic.Int32 // the clients below join one after the other
	h.srv.OnConnection(func(s *roomcast.Socket) {
		switch joined.Add(1) {
		case 1, 2:
			s.OnSet(set)
			// Added after the shared set: were it written in place, the
			// second socket's would replace the first's.
			id := s.ID()
			s.On("mine", func(e *roomcast.Event) { e.Ack(id) })
			if joined.Load() == 2 {
				s.Off("echo")
			}
		default:
			s.On("before", func(e *roomcast.Event) { e.Ack("before") })
			s.OnSet(set) // after On: appended
		}
	})
	a, aid := h.join("/", nil)
	b, bid := h.join("/", nil)
	c, cid := h.join("/", nil)

	for _, tc := range []struct {
		c           *sioclient.Client
		event, want string
	}{
		{a, "who", aid},
		{b, "who", bid},
		{c, "who", cid},
		{a, "mine", aid},
		{b, "mine", bid},
		{a, "echo", "hi"},
		{c, "before", "before"},
		{c, "echo", "hi"},
	} {
		p, err := tc.c.EmitWithAck(ctx(t), "/", tc.event, "hi")
		if err != nil {
			t.Fatalf("%s: %v", tc.event, err)
		}
		var got []string
		if err := json.Unmarshal(p.Data, &got); err != nil || len(got) != 1 || got[0] != tc.want {
			t.Fatalf("%s: ack %s, want [%q]", tc.event, p.Data, tc.want)
		}
	}
	// b removed "echo"; c never had "mine": neither is answered.
	for _, tc := range []struct {
		c     *sioclient.Client
		event string
	}{{b, "echo"}, {c, "mine"}} {
		short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		p, err := tc.c.EmitWithAck(short, "/", tc.event, "hi")
		cancel()
		if err == nil {
			t.Fatalf("%s answered: %s", tc.event, p.Data)
		}
	}
}

package engineio_test

import (
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws/wsutil"

	"github.com/roomcast/roomcast/engineio"
)

// Many sessions share the heartbeat schedule: each is pinged on its own
// rhythm while it answers, and each is closed once it stops.
func TestHeartbeatManySessions(t *testing.T) {
	opts := engineio.Options{PingInterval: 50 * time.Millisecond, PingTimeout: 500 * time.Millisecond}
	h := newHarness(t, opts, false)
	const n, rounds = 40, 4
	clients := make([]*wsClient, n)
	sids := make([]string, n)
	for i := range clients {
		clients[i], sids[i] = h.openWS()
		time.Sleep(time.Millisecond) // spread their times over the interval
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				msg, err := c.readWithin(2 * time.Second)
				if err != nil {
					errs <- err
					return
				}
				if msg != "2" {
					errs <- &unexpected{msg}
					return
				}
				if err := wsutil.WriteClientText(c.conn, []byte("3")); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	closed := map[string]bool{}
	deadline := time.After(5 * time.Second)
	for len(closed) < n {
		select {
		case e := <-h.rec.events:
			if e.closed {
				if e.reason != engineio.ReasonPingTimeout {
					t.Fatalf("session closed with %q", e.reason)
				}
				closed[e.sid] = true
			}
		case <-deadline:
			t.Fatalf("%d of %d sessions closed by the ping timeout", len(closed), n)
		}
	}
}

type unexpected struct{ msg string }

func (u *unexpected) Error() string { return "unexpected message " + u.msg }

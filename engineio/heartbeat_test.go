package engineio

import (
	"math/rand/v2"
	"testing"
)

// The schedule stays a heap, with every session's index right, through
// random schedules, reschedules and cancels; taking the sessions out in
// order gives them earliest first.
func TestHeartbeatHeap(t *testing.T) {
	var h heartbeats
	defer func() {
		if h.timer != nil {
			h.timer.Stop()
		}
	}()
	far := monoNow() + int64(1<<40) // never due during the test: fire must not run
	sessions := make([]*Session, 500)
	for i := range sessions {
		sessions[i] = &Session{}
	}
	check := func() {
		t.Helper()
		for i, s := range h.heap {
			if int(s.hbIndex) != i+1 {
				t.Fatalf("heap[%d] has index %d", i, s.hbIndex)
			}
			if i > 0 && h.heap[(i-1)/2].hbAt > s.hbAt {
				t.Fatalf("heap[%d] is earlier than its parent", i)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	in := map[*Session]bool{}
	for range 20000 {
		s := sessions[rng.IntN(len(sessions))]
		if rng.IntN(4) == 0 {
			h.cancel(s)
			delete(in, s)
		} else {
			h.schedule(s, far+rng.Int64N(1000))
			in[s] = true
		}
	}
	check()
	if len(h.heap) != len(in) {
		t.Fatalf("heap holds %d sessions, want %d", len(h.heap), len(in))
	}
	prev := int64(0)
	for len(h.heap) > 0 {
		s := h.heap[0]
		h.cancel(s)
		if s.hbAt < prev || s.hbIndex != 0 {
			t.Fatalf("out of order or still indexed: %d after %d", s.hbAt, prev)
		}
		prev = s.hbAt
		check()
	}
}

package engineio

import (
	"sync"
	"time"
)

// The heartbeat schedule. At any time a session is due either to be sent a
// ping or to have answered the last one. Rather than a runtime timer each
// (about 150 bytes with its callback, for every idle connection), the
// sessions of a server wait in one min-heap ordered by that time, behind one
// timer set for the earliest. 100,000 sessions pinged every 25 s make some
// 8,000 heap operations a second, each a few hundred nanoseconds.
type heartbeats struct {
	mu    sync.Mutex
	heap  []*Session  // a binary min-heap on Session.hbAt
	timer *time.Timer // fires at heap[0]'s time; nil until the first session
}

// monoBase is what the heartbeat times count from: an int64 of monotonic
// nanoseconds is a third of a time.Time.
var monoBase = time.Now()

// monoNow is the time now in nanoseconds since monoBase.
func monoNow() int64 { return int64(time.Since(monoBase)) }

// schedule makes s due at at (see monoNow), whether or not it was waiting.
func (h *heartbeats) schedule(s *Session, at int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s.hbAt = at
	if s.hbIndex == 0 {
		h.heap = append(h.heap, s)
		s.hbIndex = int32(len(h.heap))
		h.up(len(h.heap) - 1)
	} else if i := int(s.hbIndex - 1); !h.up(i) {
		h.down(i)
	}
	if h.heap[0] == s {
		h.armLocked(monoNow())
	}
}

// cancel takes s out of the schedule, if it is in it.
func (h *heartbeats) cancel(s *Session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.hbIndex == 0 {
		return
	}
	h.removeLocked(int(s.hbIndex - 1))
	if len(h.heap) == 0 && h.timer != nil {
		h.timer.Stop()
	}
}

// fire runs on the timer: it takes out the sessions that are due and runs
// their heartbeat step, which schedules them again.
func (h *heartbeats) fire() {
	now := monoNow()
	var due []*Session
	h.mu.Lock()
	for len(h.heap) > 0 && h.heap[0].hbAt <= now {
		due = append(due, h.heap[0])
		h.removeLocked(0)
	}
	if len(h.heap) > 0 {
		h.armLocked(now)
	}
	h.mu.Unlock()
	for _, s := range due {
		s.onHeartbeat()
	}
}

// armLocked sets the timer for the earliest session; the heap is not empty.
func (h *heartbeats) armLocked(now int64) {
	d := time.Duration(max(h.heap[0].hbAt-now, 0))
	if h.timer == nil {
		h.timer = time.AfterFunc(d, h.fire)
		return
	}
	h.timer.Reset(d)
}

func (h *heartbeats) removeLocked(i int) {
	s := h.heap[i]
	last := len(h.heap) - 1
	if i != last {
		h.swap(i, last)
	}
	h.heap[last] = nil
	h.heap = h.heap[:last]
	s.hbIndex = 0
	if i != last && !h.up(i) {
		h.down(i)
	}
	if cap(h.heap) > 64 && len(h.heap) < cap(h.heap)/4 {
		h.heap = append([]*Session(nil), h.heap...) // most sessions have gone
	}
}

func (h *heartbeats) swap(i, j int) {
	h.heap[i], h.heap[j] = h.heap[j], h.heap[i]
	h.heap[i].hbIndex = int32(i + 1)
	h.heap[j].hbIndex = int32(j + 1)
}

// up moves element i towards the root while it is earlier than its parent;
// it reports whether it moved.
func (h *heartbeats) up(i int) bool {
	moved := false
	for i > 0 {
		parent := (i - 1) / 2
		if h.heap[parent].hbAt <= h.heap[i].hbAt {
			break
		}
		h.swap(i, parent)
		i, moved = parent, true
	}
	return moved
}

// down moves element i away from the root while a child is earlier.
func (h *heartbeats) down(i int) {
	n := len(h.heap)
	for {
		first := i
		if l := 2*i + 1; l < n && h.heap[l].hbAt < h.heap[first].hbAt {
			first = l
		}
		if r := 2*i + 2; r < n && h.heap[r].hbAt < h.heap[first].hbAt {
			first = r
		}
		if first == i {
			return
		}
		h.swap(i, first)
		i = first
	}
}

package adapter

// Hooks are called after the room index changed (never under the adapter's
// lock), in the order the changes happened. Any of them may be nil.
//
// The changes of one call (AddAll, Del, DelAll) are always reported in
// order: OnCreateRoom before the OnJoinRoom that filled the room, OnLeaveRoom
// before the OnDeleteRoom of the room it emptied. Across goroutines the
// order is that of the index too, which is why a change made while another
// goroutine is running hooks is reported by that goroutine, after the hooks
// before it, and may still be pending when the call that made it returns.
// A hook may call the adapter (join, leave, broadcast); it should be quick,
// since it holds up the reporting of later changes.
type Hooks struct {
	OnCreateRoom func(room Room)
	OnDeleteRoom func(room Room)
	OnJoinRoom   func(room Room, id string)
	OnLeaveRoom  func(room Room, id string)
}

type hookKind uint8

const (
	hookCreate hookKind = iota
	hookDelete
	hookJoin
	hookLeave
)

// hookEvent is one change of the room index, waiting to be reported.
type hookEvent struct {
	kind hookKind
	room Room
	id   string
}

// maxKeptHookBuffer bounds the capacity of a hook buffer kept for reuse,
// so that one DelAll of a socket in many rooms does not pin its memory.
const maxKeptHookBuffer = 256

// hookQueue holds the changes not yet reported. It is guarded by the
// adapter's mu: a change is queued under the same lock that makes it, which
// is what fixes the order of the reports.
type hookQueue struct {
	pending []hookEvent
	spare   []hookEvent // the buffer of the previous batch, reused
	// running is set while a goroutine is reporting: it alone calls hooks,
	// so two batches never overlap or swap. A hook that changes the index
	// finds it set and leaves its own changes to the loop it runs in,
	// instead of deadlocking or reporting out of order.
	running bool
}

// record queues a change when some hook wants it. a.mu must be held for writing.
func (a *Memory) record(kind hookKind, room Room, id string) {
	if a.hooked {
		a.pending = append(a.pending, hookEvent{kind, room, id})
	}
}

// unlockAndRunHooks releases a.mu (held for writing) and, unless another
// goroutine is already doing so, reports the queued changes until none is left.
func (a *Memory) unlockAndRunHooks() {
	if len(a.pending) == 0 || a.running {
		a.mu.Unlock()
		return
	}
	a.running = true
	a.mu.Unlock()

	finished := false
	defer func() {
		if !finished { // a hook panicked: let the next change report the rest
			a.mu.Lock()
			a.running = false
			a.mu.Unlock()
		}
	}()
	var done []hookEvent
	for {
		a.mu.Lock()
		if done != nil && cap(done) <= maxKeptHookBuffer {
			clear(done) // drop the strings for the collector
			a.spare = done[:0]
		}
		batch := a.pending
		if len(batch) == 0 {
			a.running = false
			a.mu.Unlock()
			finished = true
			return
		}
		a.pending, a.spare = a.spare, nil
		a.mu.Unlock()

		for _, e := range batch {
			a.fire(e)
		}
		done = batch
	}
}

// fire calls the hook of one change.
func (a *Memory) fire(e hookEvent) {
	h := &a.hooks
	switch e.kind {
	case hookCreate:
		if h.OnCreateRoom != nil {
			h.OnCreateRoom(e.room)
		}
	case hookDelete:
		if h.OnDeleteRoom != nil {
			h.OnDeleteRoom(e.room)
		}
	case hookJoin:
		if h.OnJoinRoom != nil {
			h.OnJoinRoom(e.room, e.id)
		}
	case hookLeave:
		if h.OnLeaveRoom != nil {
			h.OnLeaveRoom(e.room, e.id)
		}
	}
}

package roomcast

import (
	"sync"

	"github.com/roomcast/roomcast/internal/gostack"
)

// dispatcher runs a socket's handlers one at a time, in the order their
// packets arrived, off the connection's read loop. It owns a goroutine only
// while it has work: an idle socket costs no goroutine.
type dispatcher struct {
	srv     *Server
	mu      sync.Mutex
	queue   []func()
	running bool
	// nextReady links the dispatchers that a reader has made ready to run
	// (see client.Deferred).
	nextReady *dispatcher
}

// push queues a task. It returns false, queuing nothing, when the queue is at
// its bound and force is false: the caller decides what a socket that lets
// work pile up deserves.
//
// A dispatcher that must start gets a goroutine of its own, unless ready is
// given: the connection's reader then links it there and runs it once it
// has stopped reading (client.Deferred).
func (d *dispatcher) push(task func(), force bool, ready **dispatcher) bool {
	d.mu.Lock()
	if !force && len(d.queue) >= d.srv.opts.MaxPendingEvents {
		d.mu.Unlock()
		return false
	}
	d.queue = append(d.queue, task)
	d.srv.tasks.Add(1)
	start := !d.running
	d.running = true
	if start && ready != nil {
		d.nextReady, *ready = *ready, d
	}
	d.mu.Unlock()
	if start {
		d.srv.workers.Add(1)
		if ready == nil {
			go d.runFresh()
		}
	}
	return true
}

// runFresh is run on a goroutine started for it: the stack is grown once
// first (see gostack). A reader's goroutine, grown already, calls run.
func (d *dispatcher) runFresh() {
	gostack.Grow()
	d.run()
}

// run runs the queued tasks until there are none.
func (d *dispatcher) run() {
	defer d.srv.workers.Done()
	for {
		d.mu.Lock()
		if len(d.queue) == 0 {
			d.running = false
			d.queue = nil
			d.mu.Unlock()
			return
		}
		task := d.queue[0]
		d.queue[0] = nil
		d.queue = d.queue[1:]
		d.mu.Unlock()
		task()
		d.srv.tasks.Add(-1)
	}
}

// runReady runs d and the dispatchers linked after it: the last one on the
// calling goroutine, the others on goroutines of their own, since a handler
// may block and must hold up no other namespace's.
func (d *dispatcher) runReady() {
	for {
		d.mu.Lock()
		next := d.nextReady
		d.nextReady = nil
		d.mu.Unlock()
		if next == nil {
			d.run()
			return
		}
		go d.runFresh()
		d = next
	}
}

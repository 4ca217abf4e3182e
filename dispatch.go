package roomcast

import (
	"sync"
)

// dispatcher runs a socket's handlers one at a time, in the order their
// packets arrived, off the connection's read loop. It owns a goroutine only
// while it has work: an idle socket costs no goroutine.
type dispatcher struct {
	srv     *Server
	mu      sync.Mutex
	queue   []func()
	running bool
}

// push queues a task. It returns false, queuing nothing, when the queue is at
// its bound and force is false: the caller decides what a socket that lets
// work pile up deserves.
func (d *dispatcher) push(task func(), force bool) bool {
	d.mu.Lock()
	if !force && len(d.queue) >= d.srv.opts.MaxPendingEvents {
		d.mu.Unlock()
		return false
	}
	d.queue = append(d.queue, task)
	start := !d.running
	d.running = true
	d.mu.Unlock()
	if start {
		d.srv.workers.Add(1)
		go d.run()
	}
	return true
}

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
	}
}

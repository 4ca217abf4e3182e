package redis

import (
	"context"
	"sync"
	"time"

	"github.com/roomcast/roomcast/adapter"
)

// pending is a request of this adapter waiting for the other servers'
// responses.
type pending struct {
	want   int
	onResp func(any)     // called under mu, from the read loop
	done   chan struct{} // closed when want responses arrived
	failed chan error    // Redis went away, or the adapter closed

	mu       sync.Mutex
	got      int
	finished bool
}

// typed adapts a response handler to pending.onResp.
func typed[T any](fn func(T)) func(any) { return func(v any) { fn(v.(T)) } }

func (p *pending) deliver(resp any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.onResp(resp)
	p.got++
	if p.got == p.want {
		p.finished = true
		close(p.done)
	}
}

// ask registers the request requestID, sends it with publish and waits
// for want responses, passing each to onResp, until timeout, ctx's end or
// a loss of Redis. When it returns, onResp is no longer called.
func (c *core) ask(ctx context.Context, op, requestID string, want int, timeout time.Duration,
	publish func(context.Context) error, onResp func(any)) error {
	p := &pending{want: want, onResp: onResp, done: make(chan struct{}), failed: make(chan error, 1)}
	c.mu.Lock()
	c.requests[requestID] = p
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.requests, requestID)
		c.mu.Unlock()
	}()
	if c.closed.Load() {
		return adapter.ErrClosed
	}

	err := publish(ctx)
	if err == nil {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		select {
		case <-p.done:
		case err = <-p.failed:
		case <-ctx.Done():
			err = ctx.Err()
		case <-timer.C:
			err = &TimeoutError{Op: op, Want: want}
		}
	}
	p.mu.Lock()
	p.finished = true
	if p.got == want {
		err = nil // every response came in while the wait was ending
	}
	if te, ok := err.(*TimeoutError); ok {
		te.Got = p.got
	}
	p.mu.Unlock()
	return err
}

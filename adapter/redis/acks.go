package redis

import (
	"context"
	"sync"
	"time"

	"github.com/roomcast/roomcast/adapter"
	"github.com/roomcast/roomcast/parser"
)

// ackWait collects what the other servers report for one BroadcastWithAck
// of this adapter: how many clients each reached, and their replies.
type ackWait struct {
	changed chan struct{} // a value arrived (capacity 1: a wake-up, not a count)

	mu       sync.Mutex
	servers  int // client counts received, one per server
	expected int // their sum
	replies  []adapter.Reply
	err      error // Redis went away or the adapter closed
}

func newAckWait() *ackWait { return &ackWait{changed: make(chan struct{}, 1)} }

func (w *ackWait) update(fn func()) {
	w.mu.Lock()
	fn()
	w.mu.Unlock()
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

func (w *ackWait) clientCount(n int) { w.update(func() { w.servers++; w.expected += n }) }
func (w *ackWait) reply(r adapter.Reply) {
	w.update(func() { w.replies = append(w.replies, r) })
}
func (w *ackWait) fail(err error) { w.update(func() { w.err = err }) }

// state returns whether servers reported and all their clients replied,
// with the replies so far and the failure, if any.
func (w *ackWait) state(servers int) (bool, []adapter.Reply, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	complete := w.servers >= servers && len(w.replies) >= w.expected
	return complete, append([]adapter.Reply(nil), w.replies...), w.err
}

// broadcastWithAck delivers p to the local targets and, with publish, to
// the other servers' under requestID, then waits: it completes once every
// other server has said how many clients it reached and that many replies
// came in, and the local ones too. When ctx ends first, it returns the
// replies so far with ctx's error.
func (c *core) broadcastWithAck(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions, requestID string,
	publish func(context.Context) error) ([]adapter.Reply, error) {
	w := newAckWait()
	c.mu.Lock()
	c.acks[requestID] = w
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.acks, requestID)
		c.mu.Unlock()
	}()

	type result struct {
		replies []adapter.Reply
		err     error
	}
	localDone := make(chan result, 1)
	go func() {
		r, err := c.mem.BroadcastWithAck(ctx, p, opts)
		localDone <- result{r, err}
	}()

	// The request goes out before the count, so that no server that
	// answers is missed; a server that joins in between is simply not waited for.
	err := publish(ctx)
	servers := 1
	if err == nil {
		servers, err = c.ServerCount(ctx)
	}
	if err != nil {
		local := <-localDone
		return local.replies, err
	}
	var local *result
	for {
		complete, remote, failed := w.state(servers - 1)
		if local != nil && (complete || failed != nil) {
			replies := append(local.replies, remote...)
			if failed != nil && !complete {
				return replies, failed
			}
			return replies, local.err
		}
		select {
		case r := <-localDone:
			local = &r
		case <-w.changed:
		case <-ctx.Done():
			if local == nil {
				r := <-localDone // ends with ctx
				local = &r
			}
			_, remote, _ := w.state(servers - 1)
			return append(local.replies, remote...), ctx.Err()
		}
	}
}

// ackTimeout is the timeout a broadcast's receivers are told: the
// operator's, else what remains of ctx, else the request timeout.
func (c *core) ackTimeout(ctx context.Context, d time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left > 0 {
			return left
		}
	}
	return c.timeout
}

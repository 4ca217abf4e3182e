package adapter

import (
	"context"
	"sync"

	"github.com/roomcast/roomcast/engineio"
	"github.com/roomcast/roomcast/parser"
)

// Broadcast encodes p once and delivers the same frames to every socket
// opts targets. It does not wait, so ctx is not consulted.
func (a *Memory) Broadcast(ctx context.Context, p *parser.Packet, opts BroadcastOptions) error {
	if a.closed.Load() {
		return ErrClosed
	}
	p = a.forNamespace(p)
	frames := encodeFrames(p)
	s := getScratch()
	a.resolve(&opts, s)
	for _, m := range s.targets {
		m.Deliver(p, frames, opts.Flags, nil)
	}
	s.release()
	return nil
}

// BroadcastWithAck delivers p, whose ID the caller has set (with HasID), to
// every socket opts targets and waits for one reply from each, or until ctx
// ends. It returns the replies in the order they arrived, with ctx's error
// when some are missing; the sockets that did not reply are told to forget
// the acknowledgement, and replies arriving later are dropped.
func (a *Memory) BroadcastWithAck(ctx context.Context, p *parser.Packet, opts BroadcastOptions) ([]Reply, error) {
	if a.closed.Load() {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return []Reply{}, err
	}
	p = a.forNamespace(p)
	frames := encodeFrames(p)
	s := getScratch()
	defer s.release()
	a.resolve(&opts, s)
	if len(s.targets) == 0 {
		return []Reply{}, nil
	}

	w := newAckWait(len(s.targets))
	for i, m := range s.targets {
		m.Deliver(p, frames, opts.Flags, w.callback(i))
	}
	select {
	case <-w.done:
		return w.replies, nil
	case <-ctx.Done():
	}
	replies, silent := w.stop()
	if silent == nil { // every reply came in while ctx ended
		return replies, nil
	}
	for i, m := range s.targets {
		if silent[i] {
			m.ForgetAck(p.ID)
		}
	}
	return replies, ctx.Err()
}

// ackWait collects the replies to one BroadcastWithAck. Callbacks may come
// from any goroutine, at any time, even after the wait is over: they only
// take a mutex that is never held while anything else is done.
type ackWait struct {
	done chan struct{} // closed when every target replied

	mu      sync.Mutex
	replies []Reply // capacity n: appending never reallocates
	replied []bool  // by target index, so a second reply counts once
	over    bool    // the wait ended: late replies are dropped
}

func newAckWait(n int) *ackWait {
	return &ackWait{
		done:    make(chan struct{}),
		replies: make([]Reply, 0, n),
		replied: make([]bool, n),
	}
}

// callback returns the onAck of target i.
func (w *ackWait) callback(i int) func(Reply) {
	return func(r Reply) {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.over || w.replied[i] {
			return
		}
		w.replied[i] = true
		w.replies = append(w.replies, r)
		if len(w.replies) == cap(w.replies) {
			w.over = true
			close(w.done)
		}
	}
}

// stop ends the wait and returns the replies so far and, if some are
// missing, which targets did not reply (nil when all did).
func (w *ackWait) stop() ([]Reply, []bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.over { // done was closed: the select lost a race with ctx
		return w.replies, nil
	}
	w.over = true
	silent := w.replied
	for i := range silent {
		silent[i] = !silent[i]
	}
	return w.replies, silent
}

// forNamespace returns p addressed to the adapter's namespace: a copy when
// it names another, since the caller's packet is read only.
func (a *Memory) forNamespace(p *parser.Packet) *parser.Packet {
	if a.ns == nil || sameNamespace(p.Namespace, a.ns.Name()) {
		return p
	}
	q := *p
	q.Namespace = a.ns.Name()
	return &q
}

func sameNamespace(x, y string) bool {
	if x == "" {
		x = "/"
	}
	if y == "" {
		y = "/"
	}
	return x == y
}

// encodeFrames encodes p once into the Engine.IO frames every target
// shares: the text message, then one binary message per attachment.
func encodeFrames(p *parser.Packet) []engineio.Frame {
	// Sized for the header ("4", type, count, namespace, id) so that
	// encoding is one allocation.
	dst := make([]byte, 1, 32+len(p.Namespace)+len(p.Data))
	dst[0] = '0' + byte(engineio.PacketMessage)
	text, atts := parser.AppendEncode(dst, p)
	frames := make([]engineio.Frame, 1, 1+len(atts))
	frames[0] = engineio.Frame{Data: text}
	for _, b := range atts {
		frames = append(frames, engineio.BinaryMessage(b))
	}
	return frames
}

package engineio

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Receiver takes what arrives on one session. Its methods are called from the
// goroutine that reads the session's transport, one call at a time and in the
// order the client sent; they must not block for long, since the session reads
// nothing else meanwhile (hand slow work to another goroutine).
type Receiver interface {
	// OnMessage gets one message packet's payload. The slice is the
	// receiver's to keep.
	OnMessage(data []byte, binary bool)
	// OnClose is called exactly once, when the session has closed.
	OnClose(reason Reason, err error)
}

// A Deferrer is a Receiver that leaves work for the goroutine that
// delivered its messages. Handling a message often means starting a
// goroutine (Socket.IO runs handlers off the reader); the goroutine that
// read a burst of WebSocket messages has nothing left to do once it has
// handed the connection back to the poller, and can do that work itself.
type Deferrer interface {
	Receiver
	// Deferred is called by the reader after one or more OnMessage calls,
	// while it still reads the transport, so that it sees them all. The
	// work it returns (nil for none) runs once the reader has stopped
	// reading, or before the reader waits for more bytes: on the same
	// goroutine, or on one of its own. The work may block: the session goes
	// on being read by other goroutines meanwhile. The server does not count
	// it among its own goroutines (Shutdown does not wait for it): the
	// receiver accounts for its work.
	Deferred() func()
}

// takeDeferred returns the work that the receiver left for the reader of
// its messages, nil if none. The caller is the reader.
func (s *Session) takeDeferred() func() {
	if d, ok := s.recv.(Deferrer); ok {
		return d.Deferred()
	}
	return nil
}

// goDeferred runs the work the receiver left on a goroutine of its own.
func (s *Session) goDeferred() {
	if work := s.takeDeferred(); work != nil {
		go work()
	}
}

type sessionState uint8

const (
	stateOpen    sessionState = iota
	stateClosing              // Close was called: the queue drains, then the transport ends
	stateClosed
)

// Session is one Engine.IO connection: a client identified by its session id,
// over polling or WebSocket, whatever transport it uses at the moment.
//
// Its methods are safe for concurrent use. Outbound frames go through one
// bounded queue; only the active transport's writer (the pending polling GET or
// the WebSocket writer goroutine) takes from it.
type Session struct {
	id      string
	srv     *Server
	request requestRecord
	recv    Receiver
	done    chan struct{} // closed when the session closes; made on first use by Done (under mu)

	// pollWake tells a waiting polling GET that the session changed.
	pollWake chan struct{}
	// The session's place in the server's heartbeat schedule (heartbeat.go),
	// guarded by the schedule's lock: when it is due, and its index + 1 in
	// the heap (0 when not in it).
	hbAt    int64
	hbIndex int32

	mu           sync.Mutex // guards the fields below; never held during I/O or callbacks
	state        sessionState
	transport    Transport
	queue        []Frame
	spare        []Frame // the writer's emptied slice, reused for the next queue
	queued       int     // bytes in queue
	awaitingPong bool
	nextPing     int64   // when the next ping is due (monoNow)
	pongDeadline int64   // when the awaited pong is overdue (monoNow)
	holds        int     // Hold calls not yet released: no writer takes the queue
	polling      bool    // a GET is pending
	posting      bool    // a POST is being read
	ws           *wsConn // the active WebSocket, once the session uses one
	probe        *wsConn // a WebSocket that is upgrading the session
	probed       bool    // the probe answered "3probe": the polling side is paused
	accepting    bool    // a WebSocket for the upgrade is in its opening handshake
	upgradeTimer *time.Timer
	closeTimer   *time.Timer
	reason       Reason
}

// newSessionID returns 20 URL-safe characters from 15 random bytes.
func newSessionID() string {
	var b [15]byte
	rand.Read(b[:]) // never fails (crypto/rand panics itself if the OS cannot supply)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ID returns the session id.
func (s *Session) ID() string { return s.id }

// Request returns the request that opened the session, without its body:
// method, URL, headers, Host, RemoteAddr and TLS state as the handshake
// carried them. It is rebuilt on each call (see requestRecord).
func (s *Session) Request() *http.Request { return s.request.rebuild() }

// Transport returns the transport in use now.
func (s *Session) Transport() Transport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transport
}

// Done is closed when the session has closed.
func (s *Session) Done() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		s.done = make(chan struct{})
		if s.state == stateClosed {
			close(s.done)
		}
	}
	return s.done
}

// Send queues frames to be written together, in order, after what is already
// queued. It never blocks on the network. It returns ErrSessionClosed once the
// session closes or starts closing, and ErrQueueFull when the frames would take
// the queue over its byte budget, in which case the session is closed.
func (s *Session) Send(frames ...Frame) error {
	n := 0
	for _, f := range frames {
		n += f.size()
	}
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return ErrSessionClosed
	}
	if s.queued+n > s.srv.opts.MaxQueueBytes {
		s.mu.Unlock()
		s.srv.opts.Logger.Warn("engineio: closing slow client", "sid", s.id, "queued", s.queued, "budget", s.srv.opts.MaxQueueBytes)
		s.closeNow(ReasonTransportError, ErrQueueFull)
		return ErrQueueFull
	}
	s.enqueueLocked(frames, n)
	s.mu.Unlock()
	return nil
}

// SendNow is Send for a message that should leave at once: a reply to one
// client, say. When the session's WebSocket has nothing queued and no writer
// running, the calling goroutine writes the frames itself, as far as the
// socket takes them without waiting, and leaves the rest to the writer. A
// lone message then costs no writer goroutine. A busy server's broadcasts
// are better sent with Send: their writers run in parallel, each sending
// its connection's backlog in one write.
func (s *Session) SendNow(frames ...Frame) error {
	if !canWriteNow {
		return s.Send(frames...)
	}
	s.mu.Lock()
	c := s.ws
	if s.state != stateOpen || s.transport != WebSocket || c == nil || c.raw == nil || c.deflate ||
		c.writing || len(c.ctrl) > 0 || len(s.queue) > 0 || s.holds > 0 || c.stopped.Load() {
		s.mu.Unlock()
		return s.Send(frames...)
	}
	c.writing = true // Send and the heartbeat queue meanwhile; no writer starts
	s.mu.Unlock()

	rest, err := c.writeNow(frames)

	s.mu.Lock()
	c.writing = false
	if err == nil {
		if rest != nil {
			c.ctrl = slices.Insert(c.ctrl, 0, wsOut{op: opRaw, data: rest})
		}
		if len(c.ctrl) > 0 || len(s.queue) > 0 || s.state == stateClosing {
			c.notifyLocked()
		}
	}
	s.mu.Unlock()
	if err != nil {
		s.closeNow(ReasonTransportError, err)
		c.shutdown()
	}
	return nil
}

// SendVolatile queues frames only if the transport can take them right now:
// nothing is waiting in the queue and the transport is ready to write (a
// polling GET is pending, or the WebSocket writer is idle). It reports whether
// the frames were queued; dropped frames are simply lost, as volatile
// events are in Socket.IO.
func (s *Session) SendVolatile(frames ...Frame) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	// A held session cannot take them now either (Hold): in the Node.js
	// server, a volatile emit in a connection handler is dropped, the
	// transport being busy with the answer to the CONNECT.
	if s.state != stateOpen || len(s.queue) > 0 || s.holds > 0 {
		return false
	}
	switch {
	case s.transport == Polling && (!s.polling || s.probed):
		return false
	case s.transport == WebSocket && (s.ws == nil || s.ws.writing):
		return false
	}
	n := 0
	for _, f := range frames {
		n += f.size()
	}
	s.enqueueLocked(frames, n)
	return true
}

// Hold keeps what is sent to the session in its queue, unwritten, until
// Release is called as many times as Hold was. Frames sent meanwhile keep
// their order and leave together after the hold; SendVolatile drops its
// frames meanwhile. Socket.IO holds a connection while its connection
// handlers run, so that the client learns it has joined a namespace only
// once they have done their part (joined rooms, say), as with the Node.js
// server, where they run in the same tick as the answer is sent.
func (s *Session) Hold() {
	s.mu.Lock()
	s.holds++
	s.mu.Unlock()
}

// Release ends one Hold.
func (s *Session) Release() {
	s.mu.Lock()
	if s.holds > 0 {
		s.holds--
		if s.holds == 0 && (len(s.queue) > 0 || s.state == stateClosing) {
			s.notifyWriterLocked()
		}
	}
	s.mu.Unlock()
}

func (s *Session) enqueueLocked(frames []Frame, n int) {
	if s.queue == nil && s.spare != nil {
		s.queue, s.spare = s.spare, nil
	}
	s.queue = append(s.queue, frames...)
	s.queued += n
	s.notifyWriterLocked()
}

// notifyWriterLocked wakes whichever writer serves the session now, unless
// the session is held (Release wakes it then).
func (s *Session) notifyWriterLocked() {
	if s.holds > 0 {
		return
	}
	if s.transport == WebSocket && s.ws != nil {
		s.ws.notifyLocked()
		return
	}
	select {
	case s.pollWake <- struct{}{}:
	default:
	}
}

// takeLocked hands the whole queue to the writer. The writer gives the slice
// back with giveBack once written, so that a busy session reuses one array.
func (s *Session) takeLocked() []Frame {
	q := s.queue
	s.queue = nil
	s.queued = 0
	return q
}

func (s *Session) giveBack(q []Frame) {
	clear(q) // drop references to shared broadcast bytes
	s.mu.Lock()
	if s.spare == nil {
		s.spare = q[:0]
	}
	s.mu.Unlock()
}

// Close closes the session gracefully: nothing more can be sent, what is queued
// is written, then the client is told and the transport ends. It does not wait.
func (s *Session) Close() { s.closeGracefully(ReasonForcedClose) }

func (s *Session) closeGracefully(reason Reason) {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return
	}
	s.state = stateClosing
	s.reason = reason
	// A client that never comes back to collect the queue must not hold the
	// session open forever.
	s.closeTimer = time.AfterFunc(s.srv.opts.PingTimeout, func() { s.closeNow(reason, nil) })
	s.notifyWriterLocked()
	s.mu.Unlock()
}

// closeNow closes the session at once, dropping what is queued. It is safe to
// call many times and from any goroutine; only the first call counts.
func (s *Session) closeNow(reason Reason, err error) {
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		return
	}
	if s.state == stateClosing {
		// The server is closing the session (Close): however the transport
		// ends now (the client answering the close frame may be seen before
		// the writer is done), the reason is the one Close gave, as in the
		// Node.js server.
		reason, err = s.reason, nil
	}
	s.state = stateClosed
	s.reason = reason
	s.srv.heartbeats.cancel(s)
	if s.closeTimer != nil {
		s.closeTimer.Stop()
	}
	if s.upgradeTimer != nil {
		s.upgradeTimer.Stop()
	}
	clear(s.queue)
	s.queue, s.spare, s.queued = nil, nil, 0
	ws, probe := s.ws, s.probe
	if s.done != nil {
		close(s.done)
	}
	select {
	case s.pollWake <- struct{}{}:
	default:
	}
	s.mu.Unlock()

	if ws != nil {
		ws.shutdown()
	}
	if probe != nil {
		probe.shutdown()
	}
	s.srv.remove(s)
	if err != nil && reason != ReasonTransportClose {
		s.srv.opts.Logger.Debug("engineio: session closed", "sid", s.id, "reason", string(reason), "err", err)
	}
	s.recv.OnClose(reason, err)
}

// onHeartbeat runs when the session is due in the heartbeat schedule: it
// sends a ping, or, if the last ping is still unanswered, closes the
// session. There is no grace period.
func (s *Session) onHeartbeat() {
	s.mu.Lock()
	due := s.nextPing
	if s.awaitingPong {
		due = s.pongDeadline
	}
	if s.state == stateClosed || monoNow() < due {
		// Closed, or a pong moved the time on after the schedule took the
		// session out: it is waiting in the schedule again.
		s.mu.Unlock()
		return
	}
	if s.awaitingPong {
		s.mu.Unlock()
		s.closeNow(ReasonPingTimeout, nil)
		return
	}
	s.awaitingPong = true
	s.pongDeadline = s.nextPing + int64(s.srv.opts.PingTimeout)
	s.srv.heartbeats.schedule(s, s.pongDeadline)
	if s.state == stateOpen {
		s.enqueueLocked([]Frame{framePing}, framePing.size())
	}
	s.mu.Unlock()
}

func (s *Session) onPong() {
	s.mu.Lock()
	if s.awaitingPong && s.state != stateClosed {
		s.awaitingPong = false
		s.nextPing = monoNow() + int64(s.srv.opts.PingInterval)
		s.srv.heartbeats.schedule(s, s.nextPing)
	}
	s.mu.Unlock()
}

// onPacket handles one packet read from the active transport.
func (s *Session) onPacket(p packet) {
	switch p.typ {
	case PacketMessage:
		s.mu.Lock()
		closed := s.state == stateClosed
		s.mu.Unlock()
		if !closed {
			s.recv.OnMessage(p.data, p.binary)
		}
	case PacketPong:
		s.onPong()
	case PacketClose:
		s.mu.Lock()
		noPendingPoll := s.transport == Polling && !s.polling
		s.mu.Unlock()
		s.closeNow(ReasonTransportClose, nil)
		if noPendingPoll {
			// A GET sent together with this close may still be on its way:
			// it gets the noop it would have got had it come first.
			s.srv.addTombstone(s.id)
		}
	case PacketPing:
		// In protocol v4 only the server pings (the probe is handled apart).
		s.closeNow(ReasonTransportError, errHeartbeatDirection)
	default:
		// open, upgrade and noop carry nothing for an established session.
	}
}

// pongOverdue reports a session whose pong deadline has passed even if its
// timer has not run yet: a request that arrives just after the deadline must
// find the session closed, as the arithmetic of the heartbeat says.
func (s *Session) pongOverdue() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.awaitingPong && s.state != stateClosed && monoNow() >= s.pongDeadline
}

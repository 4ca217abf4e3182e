package engineio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"github.com/roomcast/roomcast/internal/gostack"
)

// The WebSocket transport. gobwas/ws does the opening handshake and parses
// frame headers; reading payloads and writing frames is done here so that the
// one writer can send everything pending as one vectored write (writev) of
// shared, unmodified broadcast bytes, with no per-message copy or flush.
// With permessage-deflate (deflate.go) the shared bytes are the compressed
// form, made once per Frame.

// wsReadBuffer is the size of a WebSocket connection's read buffer.
const wsReadBuffer = 512

var (
	errWSProtocol  = errors.New("engineio: WebSocket protocol violation")
	errUpgrade     = errors.New("engineio: invalid packet during upgrade")
	errInvalidUTF8 = errors.New("engineio: text message is not valid UTF-8")
)

// wsConn is one WebSocket connection: of a session opened over WebSocket, or
// one that is upgrading a polling session (a probe) until the upgrade completes.
type wsConn struct {
	s    *Session
	conn net.Conn
	once sync.Once
	// deflate tells that permessage-deflate was negotiated: incoming messages
	// may be compressed, and outgoing ones from the threshold up are.
	deflate bool

	// guarded by s.mu
	ctrl    []wsOut // frames for this connection only: the probe answer, pongs, close
	writing bool    // a writer goroutine is running (see notifyLocked)
	// The probe answer ("3probe") is queued (probeQueued), then written
	// (probeSent). upgradeDue: the client sent the upgrade packet before it
	// was written; the writer completes the upgrade once it is.
	probeQueued, probeSent, upgradeDue bool
	stopped                            atomic.Bool // shutdown was called: no writer may start (not guarded by s.mu)

	// The reader. At most one goroutine reads at a time: a burst started by
	// the poller (see netpoll_linux.go) while reading is set, or, for a
	// connection the poller cannot watch, one that reads until the end.
	// The fields below belong to that goroutine.
	reading    atomic.Bool
	br         *bufio.Reader // nil between bursts: the buffer goes back to a pool
	fragments  []byte        // a fragmented message so far
	fragOp     ws.OpCode     // its opcode, 0 when none is being read
	compressed bool          // the message being read is compressed (RSV1 on its first frame)

	raw    syscall.RawConn // the socket, for the poller and SendNow; nil when conn is not one
	pollID uint64          // the poller's id of the registration, 0 for none
}

// readerPool holds the read buffers of connections between bursts.
var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, wsReadBuffer) }}

// wsOut is one frame to write with its opcode.
type wsOut struct {
	op   ws.OpCode
	data []byte
}

// notifyLocked makes sure a writer runs for what is pending. The writer is a
// goroutine that lives only while there is something to write, so an idle
// connection costs no writer goroutine. The caller holds s.mu.
func (c *wsConn) notifyLocked() {
	if c.writing || c.stopped.Load() {
		return
	}
	c.writing = true
	c.s.srv.workers.Add(1)
	go c.writeLoop()
}

// shutdown closes the connection; the reader, and a writer if one runs, end.
func (c *wsConn) shutdown() {
	c.once.Do(func() {
		c.stopped.Store(true)
		netpoll.forget(c)
		c.conn.Close()
	})
}

// startReading has c's messages read: by bursts when the poller watches c,
// else by a goroutine of its own.
func (c *wsConn) startReading() {
	// Bytes sent with the handshake are buffered already: the socket may
	// not say so again. Looked at before watching, since a burst may start
	// at once and own the buffer.
	early := c.br != nil && c.br.Buffered() > 0
	if !netpoll.watch(c) {
		if c.stopped.Load() {
			return // closed already: nothing to read
		}
		c.reading.Store(true)
		c.s.srv.workers.Add(1)
		go c.readLoop()
		return
	}
	if early {
		c.startBurst()
	}
}

// startBurst starts a reader for what has arrived, unless one runs.
func (c *wsConn) startBurst() {
	if c.stopped.Load() || !c.reading.CompareAndSwap(false, true) {
		return
	}
	c.s.srv.workers.Add(1)
	go c.readBurst()
}

// readBurst reads the messages that have arrived, then gives the buffer
// back and has the poller watch c again. A message that has begun is read
// to its end, waiting for its bytes if need be.
func (c *wsConn) readBurst() {
	gostack.Grow()
	if c.br == nil {
		c.br = readerPool.Get().(*bufio.Reader)
		c.br.Reset(c.connReader())
	}
	for {
		if !c.readFrame() {
			c.releaseReader()
			work := c.s.takeDeferred()
			c.s.srv.workers.Done()
			if work != nil {
				work() // the connection has failed: nothing more to read
			}
			return
		}
		if c.br.Buffered() == 0 {
			break
		}
		// More is buffered, maybe part of a frame whose rest the burst
		// will wait for: the handlers woken so far must not wait with it.
		c.s.goDeferred()
	}
	c.releaseReader()
	// The work the last messages left is taken while this goroutine is
	// still the reader, and done once it no longer is (and no longer
	// counted as the server's): the goroutine that a Socket.IO handler
	// would have started runs here instead.
	work := c.s.takeDeferred()
	c.reading.Store(false)
	if !netpoll.rearm(c) && !c.stopped.Load() && c.reading.CompareAndSwap(false, true) {
		// Still open but no longer watched: read the usual way.
		c.s.srv.workers.Add(1)
		go c.readLoop()
	}
	c.s.srv.workers.Done()
	if work != nil {
		work()
	}
}

func (c *wsConn) releaseReader() {
	if c.br.Size() == wsReadBuffer { // not net/http's own, larger one
		c.br.Reset(nil)
		readerPool.Put(c.br)
	}
	c.br = nil
}

// accept completes the WebSocket opening handshake. Everything that can refuse
// the request has been checked before, so a refusal here is the client's
// malformed handshake, answered by gobwas/ws with an HTTP error.
func (srv *Server) accept(w http.ResponseWriter, r *http.Request, s *Session, handshake bool) (*wsConn, error) {
	h := make(http.Header)
	if srv.opts.Headers != nil {
		srv.opts.Headers(h, r, handshake)
	}
	if handshake && srv.opts.Cookie != nil {
		rec := recordingWriter{h: h}
		srv.setCookie(rec, s)
	}
	up := ws.HTTPUpgrader{Header: h, Timeout: srv.opts.WriteTimeout}
	var deflated func() bool
	if srv.opts.PerMessageDeflate {
		up.Negotiate, deflated = deflateNegotiator()
	}
	conn, rw, _, err := up.Upgrade(r, w)
	if err != nil {
		if conn != nil {
			conn.Close()
		}
		return nil, err
	}
	// net/http's 4 KiB reader is dropped unless the client already sent
	// something with the handshake; a pooled small one does for the small
	// messages Socket.IO mostly carries (larger payloads bypass it).
	var br *bufio.Reader
	if rw.Reader.Buffered() > 0 {
		br = rw.Reader
	}
	c := &wsConn{
		s:       s,
		conn:    conn,
		br:      br,
		deflate: deflated != nil && deflated(),
	}
	// Only a plain socket is written to and polled directly: a wrapper
	// (a listener's own net.Conn type) may do something on Read and Write.
	switch sc := conn.(type) {
	case *net.TCPConn:
		c.raw, _ = sc.SyscallConn()
	case *net.UnixConn:
		c.raw, _ = sc.SyscallConn()
	}
	return c, nil
}

// openWebSocket opens a session over WebSocket: the open packet is its first frame.
func (srv *Server) openWebSocket(w http.ResponseWriter, r *http.Request, s *Session) {
	c, err := srv.accept(w, r, s, true)
	if err != nil {
		return
	}
	s.ws = c
	// The open packet is queued before the user hears of the session, so
	// that it is the first frame whatever the user sends; the writer starts
	// once the session is registered, so that it never sees one half made.
	open := srv.openFrame(s, WebSocket)
	s.queue, s.queued = append(s.queue, open), open.size()
	if !srv.register(s) {
		c.writeClose(ws.StatusGoingAway)
		c.shutdown()
		return
	}
	s.mu.Lock()
	c.notifyLocked()
	s.mu.Unlock()
	// The handler's goroutine (its stack grown by net/http) ends; bursts of
	// reads start when messages arrive.
	c.startReading()
}

// upgradeSession starts the upgrade of a polling session to WebSocket.
// Refusals are answered before the handshake, with the protocol's JSON body.
func (srv *Server) upgradeSession(w http.ResponseWriter, r *http.Request, s *Session) {
	s.mu.Lock()
	ok := s.state == stateOpen && s.transport == Polling && s.probe == nil &&
		!s.accepting && !srv.opts.DisableUpgrades
	if ok {
		// The slot is taken before the handshake: a second WebSocket that
		// comes while this one is being accepted is the one refused. It is
		// given back however this function ends (a Headers hook may panic).
		s.accepting = true
		defer func() {
			s.mu.Lock()
			s.accepting = false
			s.mu.Unlock()
		}()
	}
	s.mu.Unlock()
	if !ok {
		// A WebSocket for a session that is upgraded or upgrading already is
		// accepted and closed at once, as the reference server does (and the
		// protocol test suite expects): the session itself is left alone.
		if c, err := srv.accept(w, r, s, false); err == nil {
			c.writeClose(ws.StatusPolicyViolation)
			c.conn.Close()
		}
		return
	}
	c, err := srv.accept(w, r, s, false)
	if err != nil {
		return
	}
	s.mu.Lock()
	if s.state != stateOpen || s.probe != nil || s.transport != Polling {
		s.mu.Unlock()
		c.shutdown()
		return
	}
	s.probe = c
	s.upgradeTimer = time.AfterFunc(srv.opts.UpgradeTimeout, func() { s.abortUpgrade(c) })
	s.mu.Unlock()
	c.startReading()
}

// abortUpgrade drops a probe that did not complete the upgrade; the session
// goes on over polling.
func (s *Session) abortUpgrade(c *wsConn) {
	s.mu.Lock()
	if s.probe != c || c.upgradeDue {
		// Once the client has sent the upgrade packet, it uses c only: a
		// timer that fired as the packet came does not undo it.
		s.mu.Unlock()
		return
	}
	s.probe = nil
	s.probed = false
	s.mu.Unlock()
	c.shutdown()
}

// onProbePacket handles a packet from a WebSocket that is upgrading the session.
func (s *Session) onProbePacket(c *wsConn, p packet) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.probe != c || s.state == stateClosed {
		return
	}
	switch {
	case p.typ == PacketPing && string(p.data) == "probe":
		c.ctrl = append(c.ctrl, wsOut{ws.OpText, frameProbe.Data})
		c.probeQueued = true
		c.notifyLocked()
		// The client pauses polling: its pending GET, or one that comes
		// later, is released with a noop after upgradePollDelay, unless the
		// upgrade completes first and refuses it. (Released at once, a GET
		// that was sent after the upgrade packet but read before the probe
		// would get a noop where the client expects the refusal.)
		s.probed = true
		if s.polling {
			s.notifyPollLocked() // it starts waiting for the delay
		}
	case p.typ == PacketUpgrade && s.probed:
		s.upgradeTimer.Stop()
		if !c.probeSent {
			// The client may take the refusal of its next GET as the end of
			// polling only once it has the probe answer, so the switch waits
			// for the writer to have sent it. Meanwhile the client's packets
			// on c are the session's (see isActive).
			c.upgradeDue = true
			return
		}
		s.completeUpgradeLocked(c)
	default:
		s.probe = nil
		s.probed = false
		c.shutdown()
		s.srv.opts.Logger.Debug("engineio: upgrade aborted", "sid", s.id, "err", errUpgrade)
	}
}

// completeUpgradeLocked makes the probe c the session's transport.
func (s *Session) completeUpgradeLocked(c *wsConn) {
	c.upgradeDue = false
	s.probe = nil
	s.probed = false
	s.ws = c
	s.transport = WebSocket
	s.notifyPollLocked() // a GET still pending is refused
	c.notifyLocked()     // what was queued for polling goes out now
}

func (s *Session) notifyPollLocked() {
	select {
	case s.pollWake <- struct{}{}:
	default:
	}
}

// readLoop reads frames until the connection ends: the reader of a
// connection the poller does not watch.
func (c *wsConn) readLoop() {
	if c.br == nil {
		c.br = bufio.NewReaderSize(c.conn, wsReadBuffer)
	}
	for c.readFrame() {
		c.s.goDeferred() // this goroutine goes on reading
	}
	work := c.s.takeDeferred()
	c.s.srv.workers.Done()
	if work != nil {
		work()
	}
}

// fail ends the connection after a read error: the session with it, or
// only the upgrade if c is a probe.
func (c *wsConn) fail(reason Reason, err error) {
	if c.isActive() {
		c.s.closeNow(reason, err)
	} else {
		c.s.abortUpgrade(c)
	}
	c.shutdown()
}

// readFrame reads one frame and acts on it. Control frames are answered
// here; messages go to the session. It reports false once the connection
// has ended.
func (c *wsConn) readFrame() bool {
	s := c.s
	max := s.srv.opts.MaxBufferSize
	h, err := ws.ReadHeader(c.br)
	if err != nil {
		c.fail(ReasonTransportClose, err)
		return false
	}
	// RSV1 marks a compressed message: allowed on the first frame of a
	// data message, once permessage-deflate is negotiated. RSV2 and
	// RSV3 belong to no extension of ours.
	rsv1, rsv2, rsv3 := ws.RsvBits(h.Rsv)
	first := h.OpCode == ws.OpText || h.OpCode == ws.OpBinary
	if !h.Masked || rsv2 || rsv3 || (rsv1 && !(c.deflate && first)) || h.OpCode.IsReserved() ||
		(h.OpCode.IsControl() && (!h.Fin || h.Length > 125)) {
		c.writeClose(ws.StatusProtocolError)
		c.fail(ReasonTransportError, errWSProtocol)
		return false
	}
	if h.Length > max || int64(len(c.fragments))+h.Length > max {
		c.writeClose(ws.StatusMessageTooBig)
		c.fail(ReasonTransportError, ErrPayloadTooLarge)
		return false
	}
	var room int64 // what inflate appends, so that it need not copy
	if rsv1 && h.Fin {
		room = int64(len(deflateTail))
	}
	payload, err := readPayload(c.br, h.Length, room)
	if err != nil {
		c.fail(ReasonTransportClose, err)
		return false
	}
	ws.Cipher(payload, h.Mask, 0)

	switch h.OpCode {
	case ws.OpClose:
		c.writeClose(ws.StatusNormalClosure)
		c.fail(ReasonTransportClose, nil)
		return false
	case ws.OpPing:
		c.send(wsOut{ws.OpPong, payload})
		return true
	case ws.OpPong:
		return true
	case ws.OpContinuation:
		if c.fragOp == 0 {
			c.writeClose(ws.StatusProtocolError)
			c.fail(ReasonTransportError, errWSProtocol)
			return false
		}
		c.fragments = append(c.fragments, payload...)
		if !h.Fin {
			return true
		}
		payload, h.OpCode = c.fragments, c.fragOp
		c.fragments, c.fragOp = nil, 0
	default: // text or binary
		if c.fragOp != 0 {
			c.writeClose(ws.StatusProtocolError)
			c.fail(ReasonTransportError, errWSProtocol)
			return false
		}
		c.compressed = rsv1
		if !h.Fin {
			c.fragments, c.fragOp = payload, h.OpCode
			return true
		}
	}

	if c.compressed {
		if payload, err = inflate(payload, max); err != nil {
			if errors.Is(err, ErrPayloadTooLarge) {
				c.writeClose(ws.StatusMessageTooBig)
				c.fail(ReasonTransportError, err)
			} else {
				c.writeClose(ws.StatusInvalidFramePayloadData)
				c.fail(ReasonParseError, err)
			}
			return false
		}
	}

	var p packet
	if h.OpCode == ws.OpBinary {
		p = packet{typ: PacketMessage, data: payload, binary: true}
	} else if !utf8.Valid(payload) {
		// RFC 6455 requires text messages to be UTF-8 (close code 1007).
		c.writeClose(ws.StatusInvalidFramePayloadData)
		c.fail(ReasonParseError, errInvalidUTF8)
		return false
	} else if p, err = decodeText(payload); err != nil {
		c.fail(ReasonParseError, err)
		return false
	}
	if c.isActive() {
		s.onPacket(p)
	} else {
		s.onProbePacket(c, p)
	}
	return true
}

// payloadChunk is how much of a payload is allocated before its bytes
// arrive; beyond it the buffer grows with what has come.
const payloadChunk = 64 << 10

// readPayload reads a payload of n bytes, with room spare bytes of
// capacity. The buffer grows as the bytes arrive: a frame header that
// announces a megabyte and no more would otherwise pin a megabyte per
// connection until the ping timeout.
func readPayload(r io.Reader, n, room int64) ([]byte, error) {
	if n <= payloadChunk {
		b := make([]byte, n, n+room)
		_, err := io.ReadFull(r, b)
		return b, err
	}
	b := make([]byte, 0, payloadChunk)
	for int64(len(b)) < n {
		if len(b) == cap(b) { // double, up to what the payload needs
			b = slices.Grow(b, int(min(int64(len(b)), n+room-int64(len(b)))))
		}
		want := min(int64(cap(b)), n)
		m, err := io.ReadFull(r, b[len(b):want])
		b = b[:len(b)+m]
		if err != nil {
			return b, err
		}
	}
	return b, nil
}

// isActive reports whether c is the session's transport (not a probe), or
// the probe of an upgrade the client has completed on its side: its
// packets are the session's, and its failure ends the session.
func (c *wsConn) isActive() bool {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.s.ws == c || (c.s.probe == c && c.upgradeDue)
}

// send queues a frame for this connection only.
func (c *wsConn) send(o wsOut) {
	c.s.mu.Lock()
	c.ctrl = append(c.ctrl, o)
	c.notifyLocked()
	c.s.mu.Unlock()
}

// writeClose writes a close frame directly. It is used only where the
// writer cannot be: before it starts, or when the connection is being torn
// down, so a racing write can at worst garble a connection that is closing.
func (c *wsConn) writeClose(code ws.StatusCode) {
	c.conn.SetWriteDeadline(time.Now().Add(time.Second))
	ws.WriteFrame(c.conn, ws.NewCloseFrame(ws.NewCloseFrameBody(code, "")))
}

// writeLoop is the connection's one writer, started by notifyLocked. It
// writes everything pending in one vectored write, again while more is
// pending, and ends when nothing is.
func (c *wsConn) writeLoop() {
	s := c.s
	defer s.srv.workers.Done()
	wb := writeBuffersPool.Get().(*writeBuffers)
	defer writeBuffersPool.Put(wb)
	for {
		s.mu.Lock()
		ctrl := c.ctrl
		c.ctrl = nil
		answering := c.probeQueued // ctrl holds the probe answer
		c.probeQueued = false
		var frames []Frame
		active := s.ws == c && s.holds == 0 // a held session's queue waits (Hold)
		if active {
			frames = s.takeLocked()
		}
		final := active && s.state == stateClosing && len(frames) == 0
		if (len(ctrl) == 0 && len(frames) == 0 && !final) || c.stopped.Load() {
			c.writing = false
			s.mu.Unlock()
			if frames != nil {
				s.giveBack(frames)
			}
			return
		}
		s.mu.Unlock()

		err := c.write(wb, ctrl, frames, final)
		if frames != nil {
			s.giveBack(frames)
		}
		switch {
		case err != nil:
			if c.isActive() {
				s.closeNow(ReasonTransportError, err)
			} else {
				s.abortUpgrade(c) // no reader may be left to notice
			}
			c.shutdown()
			c.stopWriting()
			return
		case answering:
			s.mu.Lock()
			c.probeSent = true
			if c.upgradeDue && s.probe == c && s.state != stateClosed {
				// c.writing is set: no second writer starts.
				s.completeUpgradeLocked(c)
			}
			s.mu.Unlock()
		case final:
			s.closeNow(s.reasonNow(), nil)
			c.stopWriting()
			return
		}
	}
}

func (c *wsConn) stopWriting() {
	c.s.mu.Lock()
	c.writing = false
	c.s.mu.Unlock()
}

// writeBuffers are a writer's scratch space, pooled so that an idle
// connection holds none.
type writeBuffers struct {
	headers []byte
	bufs    net.Buffers
	w       net.Buffers // WriteTo consumes its receiver: w is bufs' copy
	raw     rawWriter   // writeNow's
}

var writeBuffersPool = sync.Pool{New: func() any { return new(writeBuffers) }}

// opRaw marks a wsOut whose data are bytes of frames already made: the part
// of a write that SendNow's socket did not take.
const opRaw ws.OpCode = 0xff

// reset readies wb for n frames.
func (wb *writeBuffers) reset(n int) {
	if cap(wb.headers) < 10*n {
		wb.headers = make([]byte, 0, 10*n)
	}
	wb.headers, wb.bufs = wb.headers[:0], wb.bufs[:0]
}

// add appends a frame: its header, then its payload, which is not copied.
func (wb *writeBuffers) add(op ws.OpCode, data []byte, compressed bool) {
	if op == opRaw {
		wb.bufs = append(wb.bufs, data)
		return
	}
	start := len(wb.headers)
	wb.headers = appendFrameHeader(wb.headers, op, len(data))
	if compressed {
		wb.headers[start] |= rsv1Bit
	}
	wb.bufs = append(wb.bufs, wb.headers[start:], data)
}

// done drops the references to the payloads written.
func (wb *writeBuffers) done() {
	clear(wb.bufs)
	if cap(wb.headers) > 64<<10 {
		wb.headers = nil // a huge batch's scratch is not kept in the pool
	}
}

func frameOp(f Frame) ws.OpCode {
	if f.Binary {
		return ws.OpBinary
	}
	return ws.OpText
}

// write sends ctrl, then frames, then (when final) a close frame, in one
// vectored write.
func (c *wsConn) write(wb *writeBuffers, ctrl []wsOut, frames []Frame, final bool) error {
	s := c.s
	wb.reset(len(ctrl) + len(frames) + 1)
	for _, o := range ctrl {
		wb.add(o.op, o.data, false)
	}
	for _, f := range frames {
		if c.deflate && len(f.Data) >= s.srv.opts.PerMessageDeflateThreshold {
			// Compressed here, off the lock, once per Frame whatever the
			// number of sessions it goes to.
			if z := s.srv.deflated.get(f.Data); z != nil {
				wb.add(frameOp(f), z, true)
				continue
			}
		}
		wb.add(frameOp(f), f.Data, false)
	}
	if final {
		wb.add(ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""), false)
	}
	err := c.flush(wb)
	wb.done()
	return err
}

// flush writes wb's buffers. It first tries without waiting, which is all
// it takes unless the client reads slower than it is sent to; only then does
// it wait for the socket, at most WriteTimeout. A connection that never
// fills its socket buffer thus never sets a deadline, which would cost a
// runtime timer per connection and a timer update per write.
func (c *wsConn) flush(wb *writeBuffers) error {
	wb.w = wb.bufs
	if canWriteNow && c.raw != nil {
		n, err := writeNow(c.raw, wb.bufs, &wb.raw)
		if err != nil {
			return err
		}
		wb.w = consume(wb.w, n)
		if len(wb.w) == 0 {
			return nil
		}
	}
	c.conn.SetWriteDeadline(time.Now().Add(c.s.srv.opts.WriteTimeout))
	_, err := wb.w.WriteTo(c.conn)
	if err == nil && canWriteNow && c.raw != nil {
		// An expired deadline would refuse the next write without waiting.
		c.conn.SetWriteDeadline(time.Time{})
	}
	return err
}

// writeNow writes frames (uncompressed) from the calling goroutine, as far as
// the socket takes them without waiting, and returns a copy of what it did
// not take (nil when it took everything). The caller is the writer of the
// moment: c.writing is set.
func (c *wsConn) writeNow(frames []Frame) (rest []byte, err error) {
	wb := writeBuffersPool.Get().(*writeBuffers)
	defer writeBuffersPool.Put(wb)
	wb.reset(len(frames))
	for _, f := range frames {
		wb.add(frameOp(f), f.Data, false)
	}
	n, err := writeNow(c.raw, wb.bufs, &wb.raw)
	if err == nil {
		for _, b := range consume(wb.bufs, n) {
			rest = append(rest, b...) // stays nil when the socket took everything
		}
	}
	wb.done()
	return rest, err
}

// consume drops the first n bytes of bufs, which are those a write took.
func consume(bufs net.Buffers, n int) net.Buffers {
	for n > 0 && len(bufs) > 0 {
		if n < len(bufs[0]) {
			bufs[0] = bufs[0][n:]
			return bufs
		}
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	return bufs
}

// rsv1Bit is RSV1 in a frame's first byte: the message is compressed.
const rsv1Bit = 0x40

// appendFrameHeader appends an unmasked, final frame header (servers never
// mask) for a payload of n bytes.
func appendFrameHeader(b []byte, op ws.OpCode, n int) []byte {
	b = append(b, 0x80|byte(op))
	switch {
	case n < 126:
		return append(b, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, 127), uint64(n))
	}
}

// recordingWriter adapts an http.Header to http.SetCookie.
type recordingWriter struct{ h http.Header }

func (r recordingWriter) Header() http.Header         { return r.h }
func (r recordingWriter) Write(b []byte) (int, error) { return len(b), nil }
func (r recordingWriter) WriteHeader(int)             {}

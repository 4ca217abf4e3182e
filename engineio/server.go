package engineio

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

var (
	errHeartbeatDirection = errors.New("engineio: client sent a ping (only the server pings in v4)")
	errPollOverlap        = errors.New("engineio: a second GET while one is pending")
	errPostOverlap        = errors.New("engineio: a second POST while one is being read")
	errPollAborted        = errors.New("engineio: the client aborted a pending GET")
	errShuttingDown       = &requestError{code: codeBadRequest, message: "Server shutting down"}
)

// Server is an Engine.IO v4 server. It is an http.Handler: mount it on its
// Options.Path. Each new session is passed to the function given to
// NewServer, which returns the session's Receiver.
type Server struct {
	opts   Options
	onOpen func(*Session) Receiver

	heartbeats heartbeats

	mu       sync.RWMutex
	sessions map[string]*Session
	// tombstones are sessions just closed by a client's close packet whose
	// in-flight GET is still owed a noop (see Session.onPacket).
	tombstones map[string]struct{}
	closing    bool
	drained    chan struct{} // closed when sessions empties during Shutdown

	limits limiter

	// workers counts the goroutines the server started (WebSocket writers),
	// so that Shutdown returns only when they have ended.
	workers sync.WaitGroup

	// deflated holds recently compressed messages (PerMessageDeflate).
	deflated deflateCache
}

// NewServer returns a server with the given options; onOpen is called for each
// new session, before any of its messages, and returns where they go.
func NewServer(opts Options, onOpen func(*Session) Receiver) *Server {
	srv := &Server{
		opts:       opts.withDefaults(),
		onOpen:     onOpen,
		sessions:   make(map[string]*Session),
		tombstones: make(map[string]struct{}),
	}
	srv.limits.opts = &srv.opts
	return srv
}

// tombstoneTTL is how long a GET sent alongside a client's close is owed its noop.
const tombstoneTTL = time.Second

func (srv *Server) addTombstone(id string) {
	srv.mu.Lock()
	srv.tombstones[id] = struct{}{}
	srv.mu.Unlock()
	time.AfterFunc(tombstoneTTL, func() { srv.takeTombstone(id) })
}

func (srv *Server) takeTombstone(id string) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	_, ok := srv.tombstones[id]
	delete(srv.tombstones, id)
	return ok
}

// Options returns the options in force, defaults filled in.
func (srv *Server) Options() Options { return srv.opts }

// Count returns the number of open sessions.
func (srv *Server) Count() int {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	return len(srv.sessions)
}

// Session returns the open session with that id, or nil.
func (srv *Server) Session(id string) *Session {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	return srv.sessions[id]
}

func (srv *Server) remove(s *Session) {
	srv.mu.Lock()
	if srv.sessions[s.id] == s {
		delete(srv.sessions, s.id)
	}
	if srv.closing && len(srv.sessions) == 0 && srv.drained != nil {
		close(srv.drained)
		srv.drained = nil
	}
	srv.mu.Unlock()
}

// ServeHTTP answers Engine.IO requests: handshakes, polls, posts and
// WebSocket upgrades.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if srv.opts.CORS != nil && srv.opts.CORS.apply(w, r) {
		return // a preflight, answered
	}
	q := r.URL.Query()
	transport := Transport(q.Get("transport"))
	// As in the reference server, only a WebSocket request is an upgrade:
	// an Upgrade header on a polling request does not let it past the
	// check that the session uses the transport it names.
	upgrade := transport == WebSocket && isWebSocketUpgrade(r)

	s, rerr := srv.verify(r, q, transport, upgrade)
	if rerr != nil && rerr.code == codeUnknownSID && transport == Polling &&
		r.Method == http.MethodGet && srv.takeTombstone(q.Get("sid")) {
		srv.writeHeaders(w, r, false)
		writePollResponse(w, r, &srv.opts, frameNoop.Data)
		return
	}
	if rerr != nil {
		srv.refuse(w, r, rerr)
		return
	}
	if s == nil {
		srv.handshake(w, r, transport)
		return
	}
	if transport == WebSocket {
		srv.upgradeSession(w, r, s)
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.servePoll(w, r)
	case http.MethodPost:
		s.servePost(w, r)
	default:
		srv.refuse(w, r, &requestError{code: codeBadRequest})
	}
}

// verify checks a request in the order the reference server does and
// returns the session it names, or nil for a handshake.
func (srv *Server) verify(r *http.Request, q map[string][]string, transport Transport, upgrade bool) (*Session, *requestError) {
	if (transport != Polling && transport != WebSocket) || !srv.opts.allows(transport) {
		return nil, &requestError{code: codeUnknownTransport}
	}
	if invalidHeaderValue(r.Header.Get("Origin")) {
		return nil, &requestError{code: codeBadRequest}
	}
	if sids := q["sid"]; len(sids) > 0 && sids[0] != "" {
		s := srv.Session(sids[0])
		if s != nil && s.pongOverdue() {
			s.closeNow(ReasonPingTimeout, nil)
			s = nil
		}
		if s == nil {
			return nil, &requestError{code: codeUnknownSID}
		}
		if !upgrade && s.Transport() != transport {
			return nil, &requestError{code: codeBadRequest}
		}
		return s, nil
	}
	if r.Method != http.MethodGet {
		return nil, &requestError{code: codeBadHandshakeMethod}
	}
	if transport == WebSocket && !upgrade {
		return nil, &requestError{code: codeBadRequest}
	}
	if eio := q["EIO"]; len(eio) == 0 || eio[0] != "4" {
		return nil, &requestError{code: codeUnsupportedVersion}
	}
	if srv.opts.AllowRequest != nil {
		if err := srv.opts.AllowRequest(r); err != nil {
			return nil, &requestError{code: codeForbidden, message: err.Error()}
		}
	}
	srv.mu.RLock()
	closing := srv.closing
	srv.mu.RUnlock()
	if closing {
		return nil, errShuttingDown
	}
	return nil, nil
}

func (srv *Server) refuse(w http.ResponseWriter, r *http.Request, e *requestError) {
	srv.writeHeaders(w, r, false)
	e.write(w)
}

// writeHeaders lets the user's hook add its headers.
func (srv *Server) writeHeaders(w http.ResponseWriter, r *http.Request, handshake bool) {
	if srv.opts.Headers != nil {
		srv.opts.Headers(w.Header(), r, handshake)
	}
}

// handshake opens a new session over the requested transport.
func (srv *Server) handshake(w http.ResponseWriter, r *http.Request, transport Transport) {
	if status := srv.limits.allow(r, srv.Count()); status != 0 {
		srv.writeHeaders(w, r, false)
		(&requestError{code: codeBadRequest, message: http.StatusText(status), httpStatus: status}).write(w)
		return
	}
	s := srv.newSession(r, transport)
	if transport == WebSocket {
		srv.openWebSocket(w, r, s)
		return
	}
	srv.writeHeaders(w, r, true)
	srv.setCookie(w, s)
	if !srv.register(s) {
		srv.refuse(w, r, errShuttingDown)
		return
	}
	writePollResponse(w, r, &srv.opts, encodePayload([]Frame{srv.openFrame(s, Polling)}))
}

func (srv *Server) newSession(r *http.Request, transport Transport) *Session {
	s := &Session{
		id:        newSessionID(),
		srv:       srv,
		request:   recordRequest(r),
		transport: transport,
	}
	if transport == Polling {
		// Only a session opened over polling ever has a GET waiting: one
		// opened over WebSocket refuses GETs before any wait.
		s.pollWake = make(chan struct{}, 1)
	}
	return s
}

// register adds the session to the server, asks the user for its receiver and
// starts its heartbeat. It fails once Shutdown has begun.
func (srv *Server) register(s *Session) bool {
	srv.mu.Lock()
	if srv.closing {
		srv.mu.Unlock()
		return false
	}
	srv.sessions[s.id] = s
	srv.mu.Unlock()
	s.recv = srv.onOpen(s)
	s.mu.Lock()
	s.nextPing = monoNow() + int64(srv.opts.PingInterval)
	if s.state != stateClosed {
		srv.heartbeats.schedule(s, s.nextPing)
	}
	s.mu.Unlock()
	return true
}

func (srv *Server) setCookie(w http.ResponseWriter, s *Session) {
	if srv.opts.Cookie == nil {
		return
	}
	c := *srv.opts.Cookie
	if c.Name == "" {
		c.Name = "io"
	}
	if c.Path == "" {
		c.Path = "/"
	}
	c.Value = s.id
	http.SetCookie(w, &c)
}

// openFrame builds the open packet: exactly the five fields the protocol lists.
func (srv *Server) openFrame(s *Session, transport Transport) Frame {
	b := make([]byte, 0, 128)
	b = append(b, '0')
	b = append(b, `{"sid":"`...)
	b = append(b, s.id...)
	b = append(b, `","upgrades":[`...)
	if transport == Polling && !srv.opts.DisableUpgrades && srv.opts.allows(WebSocket) {
		b = append(b, `"websocket"`...)
	}
	b = append(b, `],"pingInterval":`...)
	b = strconv.AppendInt(b, srv.opts.PingInterval.Milliseconds(), 10)
	b = append(b, `,"pingTimeout":`...)
	b = strconv.AppendInt(b, srv.opts.PingTimeout.Milliseconds(), 10)
	b = append(b, `,"maxPayload":`...)
	b = strconv.AppendInt(b, srv.opts.MaxBufferSize, 10)
	b = append(b, '}')
	return Frame{Data: b}
}

// Shutdown stops accepting sessions and closes every open one gracefully
// (queues are written out, then clients are told). It returns when all
// sessions and the server's goroutines have ended, or when ctx ends, in which
// case the remaining sessions are closed at once and ctx's error returned.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.mu.Lock()
	srv.closing = true
	drained := make(chan struct{})
	if len(srv.sessions) == 0 {
		close(drained)
	} else {
		srv.drained = drained
	}
	all := make([]*Session, 0, len(srv.sessions))
	for _, s := range srv.sessions {
		all = append(all, s)
	}
	srv.mu.Unlock()

	for _, s := range all {
		s.closeGracefully(ReasonServerShutdown)
	}
	var err error
	select {
	case <-drained:
	case <-ctx.Done():
		err = ctx.Err()
		srv.mu.RLock()
		all = all[:0]
		for _, s := range srv.sessions {
			all = append(all, s)
		}
		srv.mu.RUnlock()
		for _, s := range all {
			s.closeNow(ReasonServerShutdown, nil)
		}
	}
	srv.workers.Wait()
	return err
}

func isWebSocketUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// invalidHeaderValue reports control characters, which the reference server
// refuses in the Origin header.
func invalidHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return true
		}
	}
	return false
}

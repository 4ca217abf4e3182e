// Package roomcast is a Socket.IO v4 server: namespaces, rooms, broadcasts,
// acknowledgements and middlewares with the semantics of the Node.js server,
// over Engine.IO v4 (HTTP long-polling and WebSocket), for the official
// clients unchanged.
package roomcast

import (
	"context"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomcast/roomcast/adapter"
	"github.com/roomcast/roomcast/engineio"
)

// Options configures a Server. The zero value gives the Node.js server's
// defaults; each field documents its own.
type Options struct {
	// Path is where clients connect. Default "/socket.io/".
	Path string
	// PingInterval, default 25s, and PingTimeout, default 20s: the heartbeat.
	PingInterval time.Duration
	PingTimeout  time.Duration
	// UpgradeTimeout bounds an upgrade from polling to WebSocket. Default 10s.
	UpgradeTimeout time.Duration
	// ConnectTimeout closes a connection that joins no namespace in time. Default 45s.
	ConnectTimeout time.Duration
	// MaxHTTPBufferSize is the largest message a client may send. Default 1e6 bytes.
	MaxHTTPBufferSize int64
	// MaxQueueBytes bounds one connection's outbound queue; a client over it is
	// disconnected ("transport error"). Default 8 MiB.
	MaxQueueBytes int
	// MaxPendingEvents bounds the events of one socket waiting for its
	// handlers; a socket over it is disconnected. Default 1024.
	MaxPendingEvents int
	// MaxAttachments bounds the binary attachments of one packet. Default 10.
	MaxAttachments int
	// MaxConnections bounds the connections open at once; more are refused
	// with HTTP 503. Default 0: no bound.
	MaxConnections int
	// HandshakeRate bounds new connections per second from one remote
	// address (bursts of HandshakeBurst, default the rate); more are refused
	// with HTTP 429. Default 0: no bound.
	HandshakeRate  float64
	HandshakeBurst int
	// PerMessageDeflate enables WebSocket compression of messages of at least
	// PerMessageDeflateThreshold bytes (default 1024). Default off.
	PerMessageDeflate          bool
	PerMessageDeflateThreshold int
	// Transports clients may use. Default polling and WebSocket.
	Transports []engineio.Transport
	// DisableUpgrades keeps polling clients on polling.
	DisableUpgrades bool
	// CORS settings; nil writes no CORS headers.
	CORS *engineio.CORSOptions
	// AllowRequest may refuse a connection (HTTP 403 with the error's text).
	AllowRequest func(r *http.Request) error
	// Cookie, when set, is sent with the session id at the handshake.
	Cookie *http.Cookie
	// Headers may add headers to every response.
	Headers func(h http.Header, r *http.Request, handshake bool)
	// DisableHTTPCompression turns off gzip/deflate of polling responses.
	DisableHTTPCompression bool
	// Adapter makes each namespace's adapter. Default: the in-memory adapter.
	Adapter adapter.Factory
	// CleanupEmptyChildNamespaces removes a dynamic namespace's child when
	// its last socket leaves.
	CleanupEmptyChildNamespaces bool
	// MaxDynamicNamespaces bounds how many children dynamic namespaces may
	// create in all; a CONNECT that would create one more is refused with a
	// connect error. Default 10,000.
	MaxDynamicNamespaces int
	// Logger receives the server's log lines. Default slog.Default().
	Logger *slog.Logger
	// ServeClient, when set, serves the browser bundles of the npm package
	// socket.io-client from this file system, at <Path>socket.io.js (and
	// socket.io.min.js, socket.io.msgpack.min.js, socket.io.esm.min.js and
	// their .map files), as the Node.js server does: set it to the package's
	// dist folder, such as os.DirFS("node_modules/socket.io-client/dist")
	// after `npm install socket.io-client`. A missing file answers 404.
	// Default nil: not served (the Node.js server serves it by default, but a
	// Go program has no node_modules to take it from).
	ServeClient fs.FS
}

func (o Options) withDefaults() Options {
	if o.Path == "" {
		o.Path = "/socket.io/"
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 45 * time.Second
	}
	if o.MaxDynamicNamespaces <= 0 {
		o.MaxDynamicNamespaces = 10000
	}
	if o.MaxPendingEvents <= 0 {
		o.MaxPendingEvents = 1024
	}
	if o.Adapter == nil {
		o.Adapter = adapter.MemoryFactory(adapter.Hooks{})
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Server is a Socket.IO server, an http.Handler to mount on Options.Path.
// Its broadcast and handler methods act on the main namespace "/".
type Server struct {
	opts   Options
	engine *engineio.Server
	main   *Namespace

	mu       sync.RWMutex
	nsps     map[string]*Namespace
	parents  []*ParentNamespace
	children int // dynamic children in nsps
	onNewNsp []func(*Namespace)
	clients  map[*client]struct{}
	closing  bool
	workers  sync.WaitGroup // socket dispatchers
	tasks    atomic.Int64   // handlers (dispatcher tasks) queued or running: see Socket.Deliver
}

// NewServer returns a server; the zero Options are the Node.js defaults.
func NewServer(opts Options) *Server {
	srv := &Server{
		opts:    opts.withDefaults(),
		nsps:    make(map[string]*Namespace),
		clients: make(map[*client]struct{}),
	}
	srv.engine = engineio.NewServer(engineio.Options{
		Path:                       srv.opts.Path,
		PingInterval:               opts.PingInterval,
		PingTimeout:                opts.PingTimeout,
		UpgradeTimeout:             opts.UpgradeTimeout,
		MaxBufferSize:              opts.MaxHTTPBufferSize,
		MaxQueueBytes:              opts.MaxQueueBytes,
		MaxSessions:                opts.MaxConnections,
		HandshakeRate:              opts.HandshakeRate,
		HandshakeBurst:             opts.HandshakeBurst,
		PerMessageDeflate:          opts.PerMessageDeflate,
		PerMessageDeflateThreshold: opts.PerMessageDeflateThreshold,
		Transports:                 opts.Transports,
		DisableUpgrades:            opts.DisableUpgrades,
		CORS:                       opts.CORS,
		AllowRequest:               opts.AllowRequest,
		Cookie:                     opts.Cookie,
		Headers:                    opts.Headers,
		DisableHTTPCompression:     opts.DisableHTTPCompression,
		Logger:                     srv.opts.Logger,
	}, srv.newClient)
	srv.main = srv.Of("/")
	return srv
}

// ServeHTTP serves Engine.IO and Socket.IO requests, and the client bundles
// when Options.ServeClient is set.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if srv.opts.ServeClient != nil && srv.serveClient(w, r) {
		return
	}
	srv.engine.ServeHTTP(w, r)
}

// Engine returns the underlying Engine.IO server.
func (srv *Server) Engine() *engineio.Server { return srv.engine }

// Of returns the namespace of that name, creating it.
func (srv *Server) Of(name string) *Namespace {
	name = normalizeNsp(name)
	srv.mu.Lock()
	ns := srv.nsps[name]
	created := ns == nil
	if created {
		ns = newNamespace(srv, name, nil)
		srv.nsps[name] = ns
	}
	hooks := srv.onNewNsp
	srv.mu.Unlock()
	if created {
		for _, h := range hooks {
			h(ns)
		}
	}
	return ns
}

// OfRegexp returns a dynamic namespace for the names that re matches.
func (srv *Server) OfRegexp(re *regexp.Regexp) *ParentNamespace {
	return srv.OfFunc(regexpMatcher(re))
}

// OfFunc returns a dynamic namespace for the names that match accepts; it
// sees the name and the client's auth payload, and runs on the connection's
// read loop, so it must be quick.
func (srv *Server) OfFunc(match func(name string, auth json.RawMessage) bool) *ParentNamespace {
	p := newParent(srv, match)
	srv.mu.Lock()
	srv.parents = append(srv.parents, p)
	srv.mu.Unlock()
	return p
}

// OnNamespaceCreated adds a hook called for every namespace created from now
// on, static or a dynamic namespace's child.
func (srv *Server) OnNamespaceCreated(h func(*Namespace)) {
	srv.mu.Lock()
	srv.onNewNsp = append(srv.onNewNsp, h)
	srv.mu.Unlock()
}

// errTooManyNamespaces refuses a CONNECT over Options.MaxDynamicNamespaces.
var errTooManyNamespaces = &ConnectError{Message: "Too many namespaces"}

// lookup finds the namespace a CONNECT names, creating a dynamic child when
// a parent matches; otherwise it returns the connect error to send.
func (srv *Server) lookup(name string, auth json.RawMessage) (*Namespace, *ConnectError) {
	srv.mu.RLock()
	ns := srv.nsps[name]
	parents := srv.parents
	srv.mu.RUnlock()
	if ns != nil {
		return ns, nil
	}
	for _, p := range parents {
		if !p.match(name, auth) {
			continue
		}
		srv.mu.Lock()
		ns = srv.nsps[name]
		created := ns == nil
		if created {
			if srv.children >= srv.opts.MaxDynamicNamespaces {
				srv.mu.Unlock()
				srv.opts.Logger.Warn("roomcast: refusing a new dynamic namespace: limit reached",
					"limit", srv.opts.MaxDynamicNamespaces)
				return nil, errTooManyNamespaces
			}
			ns = p.child(srv, name)
			srv.nsps[name] = ns
			srv.children++
		}
		hooks := srv.onNewNsp
		srv.mu.Unlock()
		if created {
			for _, h := range hooks {
				h(ns)
			}
		}
		return ns, nil
	}
	return nil, errInvalidNamespace
}

func normalizeNsp(name string) string {
	if !strings.HasPrefix(name, "/") {
		return "/" + name
	}
	return name
}

// Sockets returns the main namespace "/".
func (srv *Server) Sockets() *Namespace { return srv.main }

// Use adds a middleware to the main namespace.
func (srv *Server) Use(m Middleware) { srv.main.Use(m) }

// OnConnection adds a connection handler to the main namespace.
func (srv *Server) OnConnection(h func(*Socket)) { srv.main.OnConnection(h) }

// To returns an operator targeting rooms of the main namespace.
func (srv *Server) To(rooms ...Room) BroadcastOperator { return srv.main.To(rooms...) }

// In is the same as To.
func (srv *Server) In(rooms ...Room) BroadcastOperator { return srv.main.In(rooms...) }

// Except returns an operator targeting the main namespace but rooms.
func (srv *Server) Except(rooms ...Room) BroadcastOperator { return srv.main.Except(rooms...) }

// Volatile returns a volatile operator on the main namespace.
func (srv *Server) Volatile() BroadcastOperator { return srv.main.Volatile() }

// Local returns an operator on the main namespace restricted to this server.
func (srv *Server) Local() BroadcastOperator { return srv.main.Local() }

// Compress returns an operator on the main namespace with the compression flag.
func (srv *Server) Compress(c bool) BroadcastOperator { return srv.main.Compress(c) }

// Timeout returns an operator on the main namespace with an ack timeout.
func (srv *Server) Timeout(d time.Duration) BroadcastOperator { return srv.main.Timeout(d) }

// Emit sends an event to every socket of the main namespace.
func (srv *Server) Emit(event string, args ...any) error { return srv.main.Emit(event, args...) }

// EmitWithAck sends an event to the main namespace and collects acknowledgements.
func (srv *Server) EmitWithAck(ctx context.Context, event string, args ...any) ([]Reply, error) {
	return srv.main.EmitWithAck(ctx, event, args...)
}

// FetchSockets returns handles on the sockets of the main namespace.
func (srv *Server) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return srv.main.FetchSockets(ctx)
}

// SocketsJoin makes every socket of the main namespace join rooms.
func (srv *Server) SocketsJoin(ctx context.Context, rooms ...Room) error {
	return srv.main.SocketsJoin(ctx, rooms...)
}

// SocketsLeave makes every socket of the main namespace leave rooms.
func (srv *Server) SocketsLeave(ctx context.Context, rooms ...Room) error {
	return srv.main.SocketsLeave(ctx, rooms...)
}

// DisconnectSockets disconnects every socket of the main namespace.
func (srv *Server) DisconnectSockets(ctx context.Context, close bool) error {
	return srv.main.DisconnectSockets(ctx, close)
}

// ServerSideEmit sends an event to the main namespace of the other servers.
func (srv *Server) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	return srv.main.ServerSideEmit(ctx, event, args...)
}

// ServerSideEmitWithAck sends an event to the other servers and collects their replies.
func (srv *Server) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]Reply, error) {
	return srv.main.ServerSideEmitWithAck(ctx, event, args...)
}

// OnServerSideEmit adds a handler for events other servers send to the main namespace.
func (srv *Server) OnServerSideEmit(event string, h ServerSideHandler) {
	srv.main.OnServerSideEmit(event, h)
}

// Shutdown stops accepting connections, disconnects every socket with
// "server shutting down", writes out what is queued, closes every connection
// and the adapters, and returns when all of it (and every handler goroutine)
// is done, or when ctx ends.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.mu.Lock()
	srv.closing = true
	clients := make([]*client, 0, len(srv.clients))
	for c := range srv.clients {
		clients = append(clients, c)
	}
	nsps := make([]*Namespace, 0, len(srv.nsps))
	for _, ns := range srv.nsps {
		nsps = append(nsps, ns)
	}
	srv.mu.Unlock()

	for _, c := range clients {
		c.closeSockets(ReasonServerShutdown)
	}
	err := srv.engine.Shutdown(ctx)
	done := make(chan struct{})
	go func() {
		srv.workers.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		if err == nil {
			err = ctx.Err()
		}
	}
	for _, ns := range nsps {
		ns.adapter.Close()
	}
	return err
}

// Package redis is a cluster adapter for Roomcast over Redis pub/sub that
// speaks the wire format of the official @socket.io/redis-adapter 8.x
// (createAdapter, the classic protocol), so that Roomcast servers and
// Node.js Socket.IO servers can share one cluster, and that
// @socket.io/redis-emitter (or this module's emitter package) reaches them all.
//
//	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
//	srv := roomcast.NewServer(roomcast.Options{Adapter: redis.New(rdb, nil)})
//
// Each namespace adapter keeps its local room index in an adapter.Memory
// and delivers locally through it; it publishes broadcasts and requests to
// the other servers and answers theirs. The adapters made by one Factory for
// one server share one subscriber connection (as the Node.js adapter shares
// its subClient); the go-redis client passed to New is used for publishing
// and stays the caller's to close.
//
// When Redis goes away, local delivery goes on; cluster operations fail at
// once with an error wrapping ErrUnavailable, and pending requests (and
// commands in flight) end with what had arrived. The loss is noticed when
// the subscriber connection breaks (after go-redis's own reconnection
// attempts: lower the client's DialerRetries to notice sooner) or a command
// fails. go-redis reconnects and re-subscribes on its own; the adapter is
// usable again once Redis confirms the subscriptions. Messages published
// while a server was disconnected are lost, as with the Node.js adapter.
package redis

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/roomcast/roomcast/adapter"
	"github.com/roomcast/roomcast/adapter/redis/wire"
)

// Options configure the adapters a Factory makes. The zero value (or nil)
// gives the Node.js adapter's defaults.
type Options struct {
	// Key prefixes every channel. Default "socket.io"; all servers of a
	// cluster must use the same.
	Key string
	// RequestTimeout bounds how long FetchSockets, AllRooms and
	// ServerSideEmit with replies wait for the other servers, and each
	// publish. Default 5s.
	RequestTimeout time.Duration
	// PublishOnSpecificResponseChannel sends responses to the requester's
	// own response channel instead of the shared one (the option of the
	// same name of the Node.js adapter). Default false.
	PublishOnSpecificResponseChannel bool
	// Logger receives the adapter's log lines. Default slog.Default().
	Logger *slog.Logger
}

func (o *Options) withDefaults() Options {
	var out Options
	if o != nil {
		out = *o
	}
	setDefaults(&out.Key, &out.RequestTimeout, &out.Logger)
	return out
}

// setDefaults fills in the options both protocols share.
func setDefaults(prefix *string, timeout *time.Duration, logger **slog.Logger) {
	if *prefix == "" {
		*prefix = wire.DefaultKey
	}
	if *timeout <= 0 {
		*timeout = 5 * time.Second
	}
	if *logger == nil {
		*logger = slog.Default()
	}
}

// ErrUnavailable is wrapped by the errors of cluster operations attempted
// while the adapter is not connected to Redis.
var ErrUnavailable = errors.New("redis adapter: Redis is unavailable")

// TimeoutError reports that fewer servers answered a request than were
// counted when it was sent. It unwraps to context.DeadlineExceeded, so that
// roomcast reports it as ErrTimeout.
type TimeoutError struct {
	Op        string // "fetchSockets", "allRooms", "serverSideEmit"
	Got, Want int
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("redis adapter: %s: timeout reached: only %d responses received out of %d", e.Op, e.Got, e.Want)
}

// Unwrap returns context.DeadlineExceeded.
func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }

// New returns a Factory of Redis adapters that publish with client. Give
// every Server its own Factory call or share one: adapters for namespaces of
// the same name always get their own subscriber connection, so that each
// server is counted once by the others (PUBSUB NUMSUB).
func New(client goredis.UniversalClient, opts *Options) adapter.Factory {
	o := opts.withDefaults()
	f := &factory{client: client, timeout: o.RequestTimeout, logger: o.Logger,
		make: func(n *node, ns adapter.Namespace) member { return newAdapter(n, ns, &o) }}
	return f.newAdapter
}

// factory makes adapters and the subscriber connections ("nodes") they share.
//
// Lock order: factory.mu, then node.mu, then the adapters' locks. None is
// held while calling Redis, a Member or the namespace.
type factory struct {
	client  goredis.UniversalClient
	sharded bool // SSUBSCRIBE, SPUBLISH and SHARDNUMSUB
	timeout time.Duration
	logger  *slog.Logger
	make    func(n *node, ns adapter.Namespace) member

	mu    sync.Mutex
	nodes []*node
}

func (f *factory) newAdapter(ns adapter.Namespace) adapter.Adapter {
	f.mu.Lock()
	var n *node
	for _, c := range f.nodes {
		if c.reserve(ns.Name()) {
			n = c
			break
		}
	}
	if n == nil {
		n = newNode(f)
		n.reserve(ns.Name())
		f.nodes = append(f.nodes, n)
	}
	f.mu.Unlock()
	a := f.make(n, ns)
	n.attach(a)
	return a
}

// release forgets n once its last adapter is gone; it reports whether n
// is to be closed.
func (f *factory) release(n *node, name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !n.unreserve(name) {
		return false
	}
	for i, c := range f.nodes {
		if c == n {
			f.nodes = append(f.nodes[:i], f.nodes[i+1:]...)
			break
		}
	}
	return true
}

// newID returns a random id of n characters from uid2's alphabet, the form
// of the Node.js adapter's server uids and request ids.
func newID(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[b[i]%64]
	}
	return string(b)
}

package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/roomcast/roomcast"
	"github.com/roomcast/roomcast/adapter"
	redisadapter "github.com/roomcast/roomcast/adapter/redis"
	"github.com/roomcast/roomcast/adapter/redis/wire"
	"github.com/roomcast/roomcast/internal/sioclient"
	"github.com/roomcast/roomcast/parser"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// redisAddr is the Redis the tests use: $REDIS_ADDR, default 127.0.0.1:6379.
func redisAddr() string {
	if a := os.Getenv("REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// newRedis returns a client of the test Redis, skipping the test when none
// answers (set ROOMCAST_REQUIRE_REDIS=1 to fail instead).
func newRedis(t *testing.T, addr string) *goredis.Client {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		if os.Getenv("ROOMCAST_REQUIRE_REDIS") != "" {
			t.Fatalf("no Redis at %s: %v", addr, err)
		}
		t.Skipf("no Redis at %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// uniqueKey returns a channel prefix of its own, so that tests running at
// the same time (here or in other packages) never see each other.
func uniqueKey() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "rctest-" + hex.EncodeToString(b)
}

type node struct {
	srv *roomcast.Server
	hs  *httptest.Server
	rdb *goredis.Client
}

// config chooses the protocol of a test cluster: the classic one with
// opts, or the sharded one in mode. RequestTimeout applies to both.
type config struct {
	sharded bool
	mode    redisadapter.SubscriptionMode
	opts    redisadapter.Options
}

// protocols are the configs of the tests that run on both protocols.
var protocols = []config{{}, {sharded: true}}

func (c config) name() string {
	if c.sharded {
		return "sharded"
	}
	return "classic"
}

// eachProtocol runs fn as a subtest for the classic and the sharded protocol.
func eachProtocol(t *testing.T, fn func(t *testing.T, c config)) {
	for _, c := range protocols {
		t.Run(c.name(), func(t *testing.T) { fn(t, c) })
	}
}

func (c config) factory(rdb goredis.UniversalClient, key string) adapter.Factory {
	if c.sharded {
		return redisadapter.NewSharded(rdb, &redisadapter.ShardedOptions{
			ChannelPrefix: key, SubscriptionMode: c.mode, RequestTimeout: c.opts.RequestTimeout})
	}
	o := c.opts
	o.Key = key
	return redisadapter.New(rdb, &o)
}

// startCluster starts n Roomcast servers, each with its own Redis client
// and adapter factory, and waits until all of them are subscribed.
func startCluster(t *testing.T, addr, key string, n int, cfg *config, setup func(i int, srv *roomcast.Server)) []*node {
	t.Helper()
	if cfg == nil {
		cfg = &config{}
	}
	var nodes []*node
	for i := range n {
		rdb := newRedis(t, addr)
		srv := roomcast.NewServer(roomcast.Options{Adapter: cfg.factory(rdb, key)})
		if setup != nil {
			setup(i, srv)
		}
		hs := httptest.NewServer(srv)
		nd := &node{srv: srv, hs: hs, rdb: rdb}
		nodes = append(nodes, nd)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Shutdown(ctx)
			hs.Close()
		})
	}
	cfg.waitSubscribers(t, nodes[0].rdb, key, "/", n)
	return nodes
}

// waitSubscribers waits until n servers listen to the classic request
// channel of nsp.
func waitSubscribers(t *testing.T, rdb *goredis.Client, key, nsp string, n int) {
	t.Helper()
	config{}.waitSubscribers(t, rdb, key, nsp, n)
}

// countChannel is the channel whose subscribers are the servers of nsp.
func (c config) countChannel(key, nsp string) string {
	if c.sharded {
		return key + "#" + nsp + "#"
	}
	return wire.NewChannels(key, nsp).Request
}

// subscribers returns the number of subscribers of channel.
func (c config) subscribers(rdb *goredis.Client, channel string) int64 {
	var m map[string]int64
	var err error
	if c.sharded {
		m, err = rdb.PubSubShardNumSub(context.Background(), channel).Result()
	} else {
		m, err = rdb.PubSubNumSub(context.Background(), channel).Result()
	}
	if err != nil {
		return -1
	}
	return m[channel]
}

// waitRoom waits, in the sharded protocol, until n servers listen to the
// channel of room: a broadcast to it reaches only those.
func (c config) waitRoom(t *testing.T, rdb *goredis.Client, key, nsp, room string, n int) {
	t.Helper()
	if !c.sharded {
		return
	}
	ch := key + "#" + nsp + "#" + room + "#"
	eventually(t, 5*time.Second, func() bool { return c.subscribers(rdb, ch) == int64(n) }, "servers subscribed to %s", ch)
}

// waitSubscribers waits until n servers listen to nsp.
func (c config) waitSubscribers(t *testing.T, rdb *goredis.Client, key, nsp string, n int) {
	t.Helper()
	ch := c.countChannel(key, nsp)
	eventually(t, 5*time.Second, func() bool { return c.subscribers(rdb, ch) == int64(n) }, "servers subscribed to %s", ch)
}

func eventually(t *testing.T, d time.Duration, cond func() bool, what string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: "+what, args...)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// client is a test client: it answers every "ask" event with its socket id
// (unless mute) and queues the other events.
type client struct {
	t      *testing.T
	c      *sioclient.Client
	sid    string
	events chan event
	mute   bool
}

type event struct {
	name string
	args []json.RawMessage
	p    *parser.Packet
}

func dial(t *testing.T, nd *node, mute bool) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := sioclient.Dial(ctx, sioclient.URL(nd.hs.URL, "/socket.io/"))
	if err != nil {
		t.Fatal(err)
	}
	sid, err := c.Connect(ctx, "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	cl := &client{t: t, c: c, sid: sid, events: make(chan event, 256), mute: mute}
	go cl.read()
	t.Cleanup(func() { c.Close() })
	return cl
}

func (cl *client) read() {
	defer close(cl.events)
	for {
		name, args, p, err := cl.c.NextEvent(context.Background(), "/")
		if err != nil {
			return
		}
		if name == "ask" && p.HasID {
			if !cl.mute {
				cl.c.Ack(p, cl.sid)
			}
			continue
		}
		cl.events <- event{name, args, p}
	}
}

// expect returns the next event, which must be name.
func (cl *client) expect(name string) event {
	cl.t.Helper()
	select {
	case e, ok := <-cl.events:
		if !ok {
			cl.t.Fatalf("%s: connection closed while waiting for %q", cl.sid, name)
		}
		if e.name != name {
			cl.t.Fatalf("%s: got %q %s, want %q", cl.sid, e.name, e.args, name)
		}
		return e
	case <-time.After(3 * time.Second):
		cl.t.Fatalf("%s: no %q within 3s", cl.sid, name)
	}
	return event{}
}

// silent checks that no event arrives for a moment.
func (cl *client) silent() {
	cl.t.Helper()
	select {
	case e, ok := <-cl.events:
		if ok {
			cl.t.Fatalf("%s: unexpected %q %s", cl.sid, e.name, e.args)
		}
	case <-time.After(200 * time.Millisecond):
	}
}

func (cl *client) socket(nd *node) *roomcast.Socket {
	cl.t.Helper()
	s := nd.srv.Sockets().Socket(cl.sid)
	if s == nil {
		cl.t.Fatalf("no socket %s on this server", cl.sid)
	}
	return s
}

func str(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("%s is not a string", raw)
	}
	return s
}

// newHTTP serves srv until the test ends.
func newHTTP(t *testing.T, srv *roomcast.Server) *httptest.Server {
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		hs.Close()
	})
	return hs
}

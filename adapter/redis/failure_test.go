package redis_test

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/roomcast/roomcast"
	redisadapter "github.com/roomcast/roomcast/adapter/redis"
)

// redisServer is a redis-server of the test's own, on a free port, that
// the test can kill and start again on the same port.
type redisServer struct {
	t    *testing.T
	port int
	cmd  *exec.Cmd
}

func startRedisServer(t *testing.T) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("no redis-server on the PATH")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r := &redisServer{t: t, port: port}
	r.start()
	t.Cleanup(r.kill)
	return r
}

func (r *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

func (r *redisServer) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	c := goredis.NewClient(&goredis.Options{Addr: r.addr(), MaxRetries: -1})
	defer c.Close()
	eventually(r.t, 5*time.Second, func() bool { return c.Ping(context.Background()).Err() == nil }, "redis-server up")
}

func (r *redisServer) kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
		r.cmd = nil
	}
}

func TestRedisKilledAndRestarted(t *testing.T) {
	eachProtocol(t, func(t *testing.T, p config) {
		p.opts.RequestTimeout = 3 * time.Second
		r := startRedisServer(t)
		release := make(chan struct{})
		defer close(release)
		key := uniqueKey()
		nodes := startCluster(t, r.addr(), key, 2, &p, func(i int, srv *roomcast.Server) {
			srv.OnServerSideEmit("ping", func(e *roomcast.Event, ack func(...any)) { ack("pong") })
			srv.OnServerSideEmit("slow", func(e *roomcast.Event, ack func(...any)) {
				<-release
				ack("late")
			})
		})
		c0, c1 := dial(t, nodes[0], false), dial(t, nodes[1], false)
		ctx := context.Background()
		c1.socket(nodes[1]).Join("room")
		p.waitRoom(t, nodes[0].rdb, key, "/", "room", 1)

		// Cluster delivery works.
		nodes[0].srv.Emit("msg", "before")
		c0.expect("msg")
		c1.expect("msg")

		// A request in flight when Redis goes away ends at once, not at its timeout.
		type result struct {
			replies []roomcast.Reply
			err     error
			took    time.Duration
		}
		pending := make(chan result, 1)
		go func() {
			start := time.Now()
			replies, err := nodes[0].srv.ServerSideEmitWithAck(ctx, "slow")
			pending <- result{replies, err, time.Since(start)}
		}()
		time.Sleep(200 * time.Millisecond)
		r.kill()
		res := <-pending
		if !errors.Is(res.err, redisadapter.ErrUnavailable) || len(res.replies) != 0 || res.took > 2*time.Second {
			t.Fatalf("pending request: %v %v after %v", res.err, res.replies, res.took)
		}

		// While Redis is down, every server serves its own clients, and cluster
		// operations fail fast.
		for i, nd := range nodes {
			a := nd.srv.Sockets().Adapter()
			eventually(t, 3*time.Second, func() bool {
				_, err := a.ServerCount(ctx)
				return errors.Is(err, redisadapter.ErrUnavailable)
			}, "server %d sees Redis down", i)
		}
		start := time.Now()
		if err := nodes[0].srv.Emit("msg", "during"); !errors.Is(err, redisadapter.ErrUnavailable) {
			t.Fatal(err)
		}
		c0.expect("msg")
		nodes[1].srv.To(roomcast.Room(c1.sid)).Emit("msg", "local to 1")
		c1.expect("msg")
		socks, err := nodes[0].srv.FetchSockets(ctx)
		if !errors.Is(err, redisadapter.ErrUnavailable) || len(socks) != 1 {
			t.Fatal(err, socks)
		}
		if _, err := nodes[1].srv.ServerSideEmitWithAck(ctx, "ping"); !errors.Is(err, redisadapter.ErrUnavailable) {
			t.Fatal(err)
		}
		replies, err := nodes[1].srv.Timeout(2*time.Second).EmitWithAck(ctx, "ask")
		if !errors.Is(err, redisadapter.ErrUnavailable) || len(replies) != 1 {
			t.Fatal(err, replies)
		}
		if err := nodes[1].srv.SocketsJoin(ctx, "x"); !errors.Is(err, redisadapter.ErrUnavailable) {
			t.Fatal(err)
		}
		if took := time.Since(start); took > time.Second {
			t.Fatalf("cluster operations took %v while Redis was down", took)
		}
		c0.silent()
		c1.silent()

		// Redis comes back on the same port: the adapters re-subscribe and
		// cluster delivery resumes.
		r.start()
		rdb := newRedis(t, r.addr())
		p.waitSubscribers(t, rdb, key, "/", 2)
		p.waitRoom(t, rdb, key, "/", "room", 1)
		for i, nd := range nodes {
			a := nd.srv.Sockets().Adapter()
			eventually(t, 5*time.Second, func() bool {
				n, err := a.ServerCount(ctx)
				return err == nil && n == 2
			}, "server %d sees Redis back", i)
		}
		if err := nodes[1].srv.Emit("msg", "after"); err != nil {
			t.Fatal(err)
		}
		c0.expect("msg")
		c1.expect("msg")
		nodes[0].srv.To("room").Emit("msg", "to room after")
		c1.expect("msg")
		c0.silent()
		socks, err = nodes[0].srv.FetchSockets(ctx)
		if err != nil || len(socks) != 2 {
			t.Fatal(err, socks)
		}
		replies, err = nodes[1].srv.ServerSideEmitWithAck(ctx, "ping")
		if err != nil || len(replies) != 1 {
			t.Fatal(err, replies)
		}
		replies, err = nodes[0].srv.Timeout(2*time.Second).EmitWithAck(ctx, "ask")
		if err != nil || len(replies) != 2 {
			t.Fatal(err, replies)
		}
	})
}

// An operation started before the adapter knows Redis is gone (go-redis
// would keep dialing and retrying it for seconds) ends once it knows.
func TestOperationInFlightWhenRedisDies(t *testing.T) {
	r := startRedisServer(t)
	nodes := startCluster(t, r.addr(), uniqueKey(), 1, nil, nil)
	c := dial(t, nodes[0], false)
	r.kill()
	start := time.Now()
	err := nodes[0].srv.Emit("msg", "x")
	if err == nil || time.Since(start) > time.Second {
		t.Fatalf("%v after %v", err, time.Since(start))
	}
	c.expect("msg")
	start = time.Now()
	if _, err := nodes[0].srv.FetchSockets(context.Background()); !errors.Is(err, redisadapter.ErrUnavailable) || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("%v after %v", err, time.Since(start))
	}
}

package redis_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/roomcast/roomcast"
	redisadapter "github.com/roomcast/roomcast/adapter/redis"
)

func TestBroadcastAcrossNodes(t *testing.T) {
	eachProtocol(t, func(t *testing.T, p config) {
		key := uniqueKey()
		nodes := startCluster(t, redisAddr(), key, 3, &p, nil)
		c0, c1, c2 := dial(t, nodes[0], false), dial(t, nodes[1], false), dial(t, nodes[2], false)
		c1.socket(nodes[1]).Join("r")
		c2.socket(nodes[2]).Join("r", "x")
		p.waitRoom(t, nodes[0].rdb, key, "/", "r", 2)

		// To a room: its members on every server, nobody else.
		if err := nodes[0].srv.To("r").Emit("msg", "to-r"); err != nil {
			t.Fatal(err)
		}
		for _, c := range []*client{c1, c2} {
			if e := c.expect("msg"); str(t, e.args[0]) != "to-r" {
				t.Fatal(e.args)
			}
		}
		c0.silent()

		// Except.
		nodes[0].srv.To("r").Except("x").Emit("msg", "r-but-x")
		c1.expect("msg")
		c2.silent()

		// Several rooms: each member once.
		c0.socket(nodes[0]).Join("y")
		nodes[1].srv.To("r", "x", "y").Emit("msg", "multi")
		for _, c := range []*client{c0, c1, c2} {
			c.expect("msg")
		}
		c2.silent()

		// Everybody, with binary and nested binary.
		nodes[2].srv.Emit("bin", []byte{1, 2, 3}, map[string]any{"k": []byte{4}, "n": 1.5})
		for _, c := range []*client{c0, c1, c2} {
			e := c.expect("bin")
			if len(e.p.Attachments) != 2 || !bytes.Equal(e.p.Attachments[0], []byte{1, 2, 3}) || !bytes.Equal(e.p.Attachments[1], []byte{4}) {
				t.Fatalf("%s %v", e.p.Data, e.p.Attachments)
			}
			if string(e.args[1]) != `{"k":{"_placeholder":true,"num":1},"n":1.5}` {
				t.Fatal(string(e.args[1]))
			}
		}

		// To one socket id of another server (the id room).
		nodes[0].srv.To(roomcast.Room(c2.sid)).Emit("private", "hi")
		c2.expect("private")
		c1.silent()

		// Local stays local.
		nodes[1].srv.Local().Emit("msg", "local")
		c1.expect("msg")
		c0.silent()
		c2.silent()
	})
}

func TestSocketToExcludesSenderAcrossNodes(t *testing.T) {
	eachProtocol(t, func(t *testing.T, p config) {
		key := uniqueKey()
		nodes := startCluster(t, redisAddr(), key, 3, &p, nil)
		c0, c1, c2 := dial(t, nodes[0], false), dial(t, nodes[1], false), dial(t, nodes[2], false)
		for i, c := range []*client{c0, c1, c2} {
			c.socket(nodes[i]).Join("room")
		}
		p.waitRoom(t, nodes[0].rdb, key, "/", "room", 3)
		s1 := c1.socket(nodes[1])
		if err := s1.To("room").Emit("msg", "from-1"); err != nil {
			t.Fatal(err)
		}
		c0.expect("msg")
		c2.expect("msg")
		c1.silent()

		// Broadcast() (everyone but the sender) and a private message to a socket elsewhere.
		s1.Broadcast().Emit("all-but-1")
		c0.expect("all-but-1")
		c2.expect("all-but-1")
		c1.silent()
		s1.To(roomcast.Room(c0.sid)).Emit("private", s1.ID(), "psst")
		if e := c0.expect("private"); str(t, e.args[0]) != c1.sid {
			t.Fatal(e.args)
		}
	})
}

func TestFetchSocketsAcrossNodes(t *testing.T) {
	eachProtocol(t, func(t *testing.T, p config) {
		nodes := startCluster(t, redisAddr(), uniqueKey(), 3, &p, nil)
		cs := []*client{dial(t, nodes[0], false), dial(t, nodes[1], false), dial(t, nodes[2], false)}
		for i, c := range cs {
			s := c.socket(nodes[i])
			s.Join("r")
			s.Data().Set("user", c.sid)
		}
		extra := dial(t, nodes[2], false) // in no room

		ctx := context.Background()
		socks, err := nodes[0].srv.In("r").FetchSockets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, s := range socks {
			ids = append(ids, s.ID())
			if s.Data()["user"] != s.ID() || !slices.Contains(s.Rooms(), "r") || !slices.Contains(s.Rooms(), roomcast.Room(s.ID())) {
				t.Fatalf("%s: data %v rooms %v", s.ID(), s.Data(), s.Rooms())
			}
			if hs := s.Handshake(); hs == nil || hs.Query["transport"] != "websocket" || hs.Issued == 0 || string(hs.Auth) != "{}" {
				t.Fatalf("%s: handshake %+v", s.ID(), hs)
			}
			if (s.Local() != nil) != (s.ID() == cs[0].sid) {
				t.Fatalf("%s: Local() %v", s.ID(), s.Local())
			}
		}
		sort.Strings(ids)
		want := []string{cs[0].sid, cs[1].sid, cs[2].sid}
		sort.Strings(want)
		if !slices.Equal(ids, want) {
			t.Fatalf("got %v, want %v", ids, want)
		}

		all, err := nodes[1].srv.FetchSockets(ctx)
		if err != nil || len(all) != 4 {
			t.Fatalf("%v %d", err, len(all))
		}

		// A remote socket can be acted on through the cluster.
		for _, s := range socks {
			if s.ID() == cs[2].sid {
				s.Emit("hello-remote", 1)
				if err := s.Join(ctx, "joined-remotely"); err != nil {
					t.Fatal(err)
				}
			}
		}
		cs[2].expect("hello-remote")
		eventually(t, 2*time.Second, func() bool {
			return slices.Contains(cs[2].socket(nodes[2]).Rooms(), "joined-remotely")
		}, "remote join")
		_ = extra

		// AllRooms is cluster-wide too (the classic protocol only).
		a, ok := nodes[0].srv.Sockets().Adapter().(*redisadapter.Adapter)
		if !ok {
			return
		}
		rooms, err := a.AllRooms(ctx)
		if err != nil || !slices.Contains(rooms, "joined-remotely") || !slices.Contains(rooms, roomcast.Room(extra.sid)) {
			t.Fatalf("%v %v", err, rooms)
		}
	})
}

func TestSocketsJoinLeaveDisconnectAcrossNodes(t *testing.T) {
	eachProtocol(t, func(t *testing.T, p config) {
		nodes := startCluster(t, redisAddr(), uniqueKey(), 3, &p, nil)
		cs := []*client{dial(t, nodes[0], false), dial(t, nodes[1], false), dial(t, nodes[2], false)}
		for i, c := range cs[:2] {
			c.socket(nodes[i]).Join("a")
		}
		ctx := context.Background()
		rooms := func(i int) []roomcast.Room { return cs[i].socket(nodes[i]).Rooms() }

		if err := nodes[2].srv.In("a").SocketsJoin(ctx, "b"); err != nil {
			t.Fatal(err)
		}
		eventually(t, 2*time.Second, func() bool {
			return slices.Contains(rooms(0), "b") && slices.Contains(rooms(1), "b")
		}, "joined b")
		if slices.Contains(rooms(2), "b") {
			t.Fatal("socket outside a joined b")
		}

		if err := nodes[0].srv.Except(roomcast.Room(cs[1].sid)).SocketsLeave(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		eventually(t, 2*time.Second, func() bool { return !slices.Contains(rooms(0), "a") }, "left a")
		time.Sleep(100 * time.Millisecond)
		if !slices.Contains(rooms(1), "a") {
			t.Fatal("excepted socket left a")
		}

		if err := nodes[0].srv.In("b").DisconnectSockets(ctx, true); err != nil {
			t.Fatal(err)
		}
		for _, c := range cs[:2] {
			select {
			case <-c.c.Done():
			case <-time.After(3 * time.Second):
				t.Fatalf("%s not disconnected", c.sid)
			}
		}
		cs[2].silent()
		if nodes[2].srv.Sockets().Len() != 1 {
			t.Fatal("socket outside b disconnected")
		}
	})
}

func TestServerSideEmitAcrossNodes(t *testing.T) {
	eachProtocol(t, func(t *testing.T, p config) {
		got := make(chan string, 10)
		nodes := startCluster(t, redisAddr(), uniqueKey(), 3, &p, func(i int, srv *roomcast.Server) {
			srv.OnServerSideEmit("ping", func(e *roomcast.Event, ack func(args ...any)) {
				if ack != nil {
					ack("pong", i) // only the first argument travels, as in Node.js
				}
			})
			srv.OnServerSideEmit("hello", func(e *roomcast.Event, ack func(args ...any)) {
				var s string
				var n int
				var b any
				if err := e.Bind(&s, &n, &b); err != nil || ack != nil {
					got <- "bad"
					return
				}
				kind := "bytes" // the sharded protocol carries binary as binary
				if m, ok := b.(map[string]any); ok {
					kind, _ = m["type"].(string)
				} else if bs, ok := b.([]byte); !ok || len(bs) != 1 || bs[0] != 1 {
					kind = fmt.Sprintf("%T %v", b, b)
				}
				got <- s + "/" + string(rune('0'+n)) + "/" + kind
			})
		})
		ctx := context.Background()
		replies, err := nodes[0].srv.ServerSideEmitWithAck(ctx, "ping")
		if err != nil || len(replies) != 2 {
			t.Fatalf("%v %v", err, replies)
		}
		for _, r := range replies {
			var s string
			if err := r.Bind(&s); err != nil || s != "pong" || len(r.Args) != 1 {
				t.Fatalf("%v %s", err, r.Args)
			}
		}

		// Without ack. Binary travels as JSON Buffers in the classic protocol
		// (what Node.js does in this request), as binary in the sharded one.
		wantKind := "Buffer"
		if p.sharded {
			wantKind = "bytes"
		}
		if err := nodes[1].srv.ServerSideEmit(ctx, "hello", "w", 7, []byte{1}); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			select {
			case s := <-got:
				if s != "w/7/"+wantKind {
					t.Fatal(s)
				}
			case <-time.After(3 * time.Second):
				t.Fatal("server-side event not received")
			}
		}
		select {
		case s := <-got:
			t.Fatalf("sender received its own event: %s", s)
		case <-time.After(200 * time.Millisecond):
		}
	})
}

func TestServerSideEmitTimeout(t *testing.T) {
	eachProtocol(t, func(t *testing.T, p config) {
		key := uniqueKey()
		p.opts.RequestTimeout = 300 * time.Millisecond
		nodes := startCluster(t, redisAddr(), key, 2, &p, func(i int, srv *roomcast.Server) {
			srv.OnServerSideEmit("ping", func(e *roomcast.Event, ack func(args ...any)) { ack("pong") })
		})
		// A silent extra subscriber of the counting channel: counted, never answers.
		rdb := newRedis(t, redisAddr())
		var ps *goredis.PubSub
		if p.sharded {
			ps = rdb.SSubscribe(context.Background(), p.countChannel(key, "/"))
		} else {
			ps = rdb.Subscribe(context.Background(), p.countChannel(key, "/"))
		}
		defer ps.Close()
		p.waitSubscribers(t, rdb, key, "/", 3)

		start := time.Now()
		replies, err := nodes[0].srv.ServerSideEmitWithAck(context.Background(), "ping")
		if !errors.Is(err, roomcast.ErrTimeout) || len(replies) != 1 || time.Since(start) > 2*time.Second {
			t.Fatalf("%v %v after %v", err, replies, time.Since(start))
		}
		socks, err := nodes[1].srv.FetchSockets(context.Background())
		var te *redisadapter.TimeoutError
		if !errors.As(err, &te) || te.Got != 1 || te.Want != 2 || socks == nil {
			t.Fatalf("%v %v", err, socks)
		}
	})
}

func TestBroadcastWithAcksAcrossNodes(t *testing.T) {
	eachProtocol(t, func(t *testing.T, p config) {
		nodes := startCluster(t, redisAddr(), uniqueKey(), 3, &p, nil)
		cs := []*client{dial(t, nodes[0], false), dial(t, nodes[1], false), dial(t, nodes[1], false), dial(t, nodes[2], false)}
		ctx := context.Background()

		replies, err := nodes[0].srv.Timeout(2*time.Second).EmitWithAck(ctx, "ask", []byte{9})
		if err != nil || len(replies) != 4 {
			t.Fatalf("%v %v", err, replies)
		}
		var ids, want []string
		for _, r := range replies {
			var s string
			r.Bind(&s)
			ids = append(ids, s)
		}
		for _, c := range cs {
			want = append(want, c.sid)
		}
		sort.Strings(ids)
		sort.Strings(want)
		if !slices.Equal(ids, want) {
			t.Fatalf("got %v, want %v", ids, want)
		}

		// A room with no member anywhere: every server reports 0 clients.
		start := time.Now()
		replies, err = nodes[1].srv.To("nobody").Timeout(2*time.Second).EmitWithAck(ctx, "ask")
		if err != nil || len(replies) != 0 || time.Since(start) > time.Second {
			t.Fatalf("%v %v %v", err, replies, time.Since(start))
		}

		// Binary acks travel as binary.
		cs[3].mute = true
		go func() {
			e := cs[3].expect("bin-ask")
			cs[3].c.Ack(e.p, []byte{7, 7}, "ignored")
		}()
		replies, err = nodes[0].srv.To(roomcast.Room(cs[3].sid)).Timeout(2*time.Second).EmitWithAck(ctx, "bin-ask")
		if err != nil || len(replies) != 1 {
			t.Fatalf("%v %v", err, replies)
		}
		var b []byte
		if err := replies[0].Bind(&b); err != nil || !bytes.Equal(b, []byte{7, 7}) || len(replies[0].Args) != 1 {
			t.Fatalf("%v %v %s", err, b, replies[0].Args)
		}

		// A client that never answers: the others' replies and ErrTimeout.
		replies, err = nodes[2].srv.Timeout(500*time.Millisecond).EmitWithAck(ctx, "ask")
		if !errors.Is(err, roomcast.ErrTimeout) || len(replies) != 3 {
			t.Fatalf("%v %d", err, len(replies))
		}
	})
}

func TestNamespacesAreKeptApart(t *testing.T) {
	eachProtocol(t, func(t *testing.T, p config) {
		key := uniqueKey()
		nodes := startCluster(t, redisAddr(), key, 2, &p, func(i int, srv *roomcast.Server) { srv.Of("/other") })
		p.waitSubscribers(t, nodes[0].rdb, key, "/other", 2)
		c1 := dial(t, nodes[1], false)
		c1.socket(nodes[1]).Join("r")
		p.waitRoom(t, nodes[0].rdb, key, "/", "r", 1)
		nodes[0].srv.Of("/other").To("r").Emit("msg", "other")
		nodes[0].srv.Of("/other").Emit("msg", "other")
		c1.silent()
		nodes[0].srv.To("r").Emit("msg", "main")
		c1.expect("msg")
	})
}

// The same Factory given to two servers still makes two cluster members.
func TestSharedFactory(t *testing.T) {
	key := uniqueKey()
	rdb := newRedis(t, redisAddr())
	f := redisadapter.New(rdb, &redisadapter.Options{Key: key})
	var nodes []*node
	for range 2 {
		srv := roomcast.NewServer(roomcast.Options{Adapter: f})
		nd := &node{srv: srv, rdb: rdb}
		nd.hs = newHTTP(t, srv)
		nodes = append(nodes, nd)
	}
	waitSubscribers(t, rdb, key, "/", 2)
	c1 := dial(t, nodes[1], false)
	nodes[0].srv.Emit("msg", "x")
	c1.expect("msg")
	n, err := nodes[0].srv.Sockets().Adapter().ServerCount(context.Background())
	if err != nil || n != 2 {
		t.Fatal(n, err)
	}
}

func TestUnreachableRedisFailsFast(t *testing.T) {
	// Nothing listens on port 1: every cluster operation fails, at once,
	// while local delivery goes on.
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	defer rdb.Close()
	srv := roomcast.NewServer(roomcast.Options{Adapter: redisadapter.New(rdb, nil)})
	nd := &node{srv: srv, rdb: rdb}
	nd.hs = newHTTP(t, srv)
	c := dial(t, nd, false)
	a := srv.Sockets().Adapter()
	eventually(t, 3*time.Second, func() bool {
		_, err := a.ServerCount(context.Background())
		return errors.Is(err, redisadapter.ErrUnavailable)
	}, "ErrUnavailable")
	start := time.Now()
	if err := srv.Emit("msg", "local"); !errors.Is(err, redisadapter.ErrUnavailable) {
		t.Fatal(err)
	}
	c.expect("msg")
	if _, err := srv.FetchSockets(context.Background()); !errors.Is(err, redisadapter.ErrUnavailable) {
		t.Fatal(err)
	}
	replies, err := srv.Timeout(time.Second).EmitWithAck(context.Background(), "ask")
	if !errors.Is(err, redisadapter.ErrUnavailable) || len(replies) != 1 {
		t.Fatal(err, replies)
	}
	if time.Since(start) > 500*time.Millisecond {
		t.Fatalf("took %v", time.Since(start))
	}
}

// Many acks at once go out in pipelined batches, in order after the count.
func TestManyAcks(t *testing.T) {
	eachProtocol(t, func(t *testing.T, p config) {
		nodes := startCluster(t, redisAddr(), uniqueKey(), 2, &p, nil)
		const n = 40
		for range n {
			dial(t, nodes[1], false)
		}
		replies, err := nodes[0].srv.Timeout(5*time.Second).EmitWithAck(context.Background(), "ask", "x")
		if err != nil || len(replies) != n {
			t.Fatalf("%v %d", err, len(replies))
		}
	})
}

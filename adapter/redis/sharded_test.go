package redis_test

import (
	"context"
	"testing"

	"github.com/roomcast/roomcast"
	redisadapter "github.com/roomcast/roomcast/adapter/redis"
)

// In Dynamic mode a server listens to a public room's channel while it has
// members in it, and never to a channel per socket id; a broadcast to the
// room reaches its members on every server, and one to a socket id goes
// through the main channel.
func TestShardedDynamicRoomChannels(t *testing.T) {
	key := uniqueKey()
	p := config{sharded: true}
	nodes := startCluster(t, redisAddr(), key, 2, &p, nil)
	rdb := nodes[0].rdb
	c0, c1 := dial(t, nodes[0], false), dial(t, nodes[1], false)
	room := func(r string) string { return key + "#/#" + r + "#" }

	c1.socket(nodes[1]).Join("news")
	p.waitRoom(t, rdb, key, "/", "news", 1)
	if n := p.subscribers(rdb, room(c1.sid)); n != 0 {
		t.Fatalf("socket-id room subscribed by %d servers", n)
	}
	nodes[0].srv.To("news").Emit("msg", "news")
	c1.expect("msg")
	c0.silent()
	nodes[0].srv.To(roomcast.Room(c1.sid)).Emit("private", "hi")
	c1.expect("private")

	// Both servers once the other has a member too; none once all left.
	c0.socket(nodes[0]).Join("news")
	p.waitRoom(t, rdb, key, "/", "news", 2)
	c0.socket(nodes[0]).Leave("news")
	c1.socket(nodes[1]).Leave("news")
	p.waitRoom(t, rdb, key, "/", "news", 0)

	// A room whose members all disconnect is left too.
	c1.socket(nodes[1]).Join("gone")
	p.waitRoom(t, rdb, key, "/", "gone", 1)
	c1.c.Close()
	p.waitRoom(t, rdb, key, "/", "gone", 0)
}

func TestShardedDynamicPrivate(t *testing.T) {
	key := uniqueKey()
	p := config{sharded: true, mode: redisadapter.DynamicPrivate}
	nodes := startCluster(t, redisAddr(), key, 2, &p, nil)
	c1 := dial(t, nodes[1], false)
	p.waitRoom(t, nodes[0].rdb, key, "/", c1.sid, 1)
	nodes[0].srv.To(roomcast.Room(c1.sid)).Emit("private", "hi")
	c1.expect("private")
	c1.c.Close()
	p.waitRoom(t, nodes[0].rdb, key, "/", c1.sid, 0)
}

func TestShardedStatic(t *testing.T) {
	key := uniqueKey()
	p := config{sharded: true, mode: redisadapter.Static}
	nodes := startCluster(t, redisAddr(), key, 2, &p, nil)
	c0, c1 := dial(t, nodes[0], false), dial(t, nodes[1], false)
	c1.socket(nodes[1]).Join("news")
	nodes[0].srv.To("news").Emit("msg", "news")
	c1.expect("msg")
	c0.silent()
	if n := p.subscribers(nodes[0].rdb, key+"#/#news#"); n != 0 {
		t.Fatalf("static mode: room channel subscribed by %d servers", n)
	}
}

// A server that shuts down leaves every channel it listened to.
func TestShardedShutdownLeavesChannels(t *testing.T) {
	key := uniqueKey()
	p := config{sharded: true}
	nodes := startCluster(t, redisAddr(), key, 2, &p, nil)
	c1 := dial(t, nodes[1], false)
	c1.socket(nodes[1]).Join("a", "b")
	p.waitRoom(t, nodes[0].rdb, key, "/", "b", 1)
	ctx := context.Background()
	if err := nodes[1].srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	p.waitSubscribers(t, nodes[0].rdb, key, "/", 1)
	for _, r := range []string{"a", "b"} {
		p.waitRoom(t, nodes[0].rdb, key, "/", r, 0)
	}
	n, err := nodes[0].srv.Sockets().Adapter().ServerCount(ctx)
	if err != nil || n != 1 {
		t.Fatal(n, err)
	}
}

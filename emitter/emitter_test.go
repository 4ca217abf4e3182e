package emitter_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"os"
	"slices"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/roomcast/roomcast"
	redisadapter "github.com/roomcast/roomcast/adapter/redis"
	"github.com/roomcast/roomcast/emitter"
	"github.com/roomcast/roomcast/internal/sioclient"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newRedis(t *testing.T) *goredis.Client {
	t.Helper()
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	c := goredis.NewClient(&goredis.Options{Addr: addr})
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

func uniqueKey() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "rctest-" + hex.EncodeToString(b)
}

// fixstr-encoded MessagePack, as in the spec's captures.
func s(x string) []byte { return append([]byte{0xa0 | byte(len(x))}, x...) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// What @socket.io/redis-emitter 5.1.0 published in the spec's capture
// (section 10), with the key "socket.io" replaced by a test key.
func TestPublishesWhatTheNodeEmitterPublishes(t *testing.T) {
	rdb := newRedis(t)
	key := uniqueKey()
	ctx := context.Background()
	ps := rdb.PSubscribe(ctx, key+"*")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil { // the subscription's confirmation
		t.Fatal(err)
	}
	e := emitter.New(rdb, &emitter.Options{Key: key})
	next := func() (string, []byte) {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		m, err := ps.ReceiveMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return m.Channel, []byte(m.Payload)
	}
	expect := func(channel string, payload []byte) {
		t.Helper()
		ch, got := next()
		if ch != channel || !bytes.Equal(got, payload) {
			t.Fatalf("got %s % x\n(%q)\nwant %s % x", ch, got, got, channel, payload)
		}
	}

	if err := e.To("room1").Emit(ctx, "fromEmitter", 1, []byte{7}); err != nil {
		t.Fatal(err)
	}
	expect(key+"#/#room1#", cat([]byte{0x93}, s("emitter"), []byte{0x83}, s("type"), []byte{2}, s("data"),
		[]byte{0x93}, s("fromEmitter"), []byte{1, 0xc4, 1, 7}, s("nsp"), s("/"),
		[]byte{0x83}, s("rooms"), []byte{0x91}, s("room1"), s("flags"), []byte{0x80}, s("except"), []byte{0x90}))

	if err := e.ServerSideEmit(ctx, "hello", "from-emitter"); err != nil {
		t.Fatal(err)
	}
	expect(key+"-request#/#", []byte(`{"uid":"emitter","type":6,"data":["hello","from-emitter"]}`))

	if err := e.To("room1").SocketsJoin(ctx, "r9"); err != nil {
		t.Fatal(err)
	}
	expect(key+"-request#/#", []byte(`{"type":2,"opts":{"rooms":["room1"],"except":[]},"rooms":["r9"]}`))

	if err := e.Of("custom").Emit(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	expect(key+"#/custom#", cat([]byte{0x93}, s("emitter"), []byte{0x83}, s("type"), []byte{2}, s("data"),
		[]byte{0x91}, s("x"), s("nsp"), s("/custom"), []byte{0x83}, s("rooms"), []byte{0x90}, s("flags"), []byte{0x80}, s("except"), []byte{0x90}))

	e.Except("a").Volatile().SocketsLeave(ctx, "b")
	expect(key+"-request#/#", []byte(`{"type":3,"opts":{"rooms":[],"except":["a"]},"rooms":["b"]}`))
	e.In("a", "b").DisconnectSockets(ctx, true)
	expect(key+"-request#/#", []byte(`{"type":4,"opts":{"rooms":["a","b"],"except":[]},"close":true}`))
	e.To("a", "b").Except("c").Volatile().Emit(ctx, "v")
	expect(key+"#/#", cat([]byte{0x93}, s("emitter"), []byte{0x83}, s("type"), []byte{2}, s("data"),
		[]byte{0x91}, s("v"), s("nsp"), s("/"), []byte{0x83}, s("rooms"), []byte{0x92}, s("a"), s("b"),
		s("flags"), []byte{0x81}, s("volatile"), []byte{0xc3}, s("except"), []byte{0x91}, s("c")))

	if err := e.Emit(ctx, "disconnect"); !errors.Is(err, emitter.ErrReservedEvent) {
		t.Fatal(err)
	}
}

// The emitter reaches the sockets of Roomcast servers.
func TestReachesRoomcastServers(t *testing.T) {
	rdb := newRedis(t)
	key := uniqueKey()
	events := make(chan string, 4)
	var srvs []*roomcast.Server
	var urls []string
	for range 2 {
		srv := roomcast.NewServer(roomcast.Options{Adapter: redisadapter.New(rdb, &redisadapter.Options{Key: key})})
		srv.OnServerSideEmit("hello", func(e *roomcast.Event, ack func(...any)) {
			var a string
			e.Bind(&a)
			events <- a
		})
		hs := httptest.NewServer(srv)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Shutdown(ctx)
			hs.Close()
		})
		srvs = append(srvs, srv)
		urls = append(urls, hs.URL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := key + "-request#/#"
	for {
		m, _ := rdb.PubSubNumSub(ctx, req).Result()
		if m[req] == 2 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("servers not subscribed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	var clients []*sioclient.Client
	var sids []string
	for _, u := range urls {
		c, err := sioclient.Dial(ctx, sioclient.URL(u, "/socket.io/"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		sid, err := c.Connect(ctx, "/", nil)
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
		sids = append(sids, sid)
	}
	srvs[1].Sockets().Socket(sids[1]).Join("room1")

	e := emitter.New(rdb, &emitter.Options{Key: key})
	if err := e.To("room1").Emit(ctx, "fromEmitter", 1, []byte{7}); err != nil {
		t.Fatal(err)
	}
	name, args, p, err := clients[1].NextEvent(ctx, "/")
	if err != nil || name != "fromEmitter" || string(args[0]) != "1" || !bytes.Equal(p.Attachments[0], []byte{7}) {
		t.Fatal(name, args, err)
	}
	// Everybody: the first client's next event is this one, not the room's.
	e.Emit(ctx, "all")
	for _, c := range clients {
		if name, _, _, err := c.NextEvent(ctx, "/"); err != nil || name != "all" {
			t.Fatal(name, err)
		}
	}

	e.To("room1").SocketsJoin(ctx, "joined")
	deadline := time.Now().Add(3 * time.Second)
	for !slices.Contains(srvs[1].Sockets().Socket(sids[1]).Rooms(), "joined") {
		if time.Now().After(deadline) {
			t.Fatal("socketsJoin from the emitter not applied")
		}
		time.Sleep(10 * time.Millisecond)
	}

	e.ServerSideEmit(ctx, "hello", "from-go-emitter")
	for range 2 {
		select {
		case a := <-events:
			if a != "from-go-emitter" {
				t.Fatal(a)
			}
		case <-ctx.Done():
			t.Fatal("server-side event not received")
		}
	}

	e.In("joined").DisconnectSockets(ctx, true)
	select {
	case <-clients[1].Done():
	case <-ctx.Done():
		t.Fatal("not disconnected")
	}
	if srvs[0].Sockets().Len() != 1 {
		t.Fatal("the other socket was disconnected too")
	}
}

package redis_test

import (
	"context"
	"net/http"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/roomcast/roomcast"
	redisadapter "github.com/roomcast/roomcast/adapter/redis"
)

// A server that is one node of a cluster: Roomcast servers and Node.js
// servers with @socket.io/redis-adapter on the same Redis and key reach
// each other's sockets.
func Example() {
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()

	srv := roomcast.NewServer(roomcast.Options{
		Adapter: redisadapter.New(rdb, &redisadapter.Options{Key: "socket.io", RequestTimeout: 5 * time.Second}),
	})
	srv.OnConnection(func(s *roomcast.Socket) {
		s.Join("lobby")
		// Every member of "lobby", on every server but this socket.
		s.To("lobby").Emit("joined", s.ID())
	})
	// Answered by every other server of the cluster.
	srv.OnServerSideEmit("ping", func(e *roomcast.Event, ack func(args ...any)) {
		if ack != nil {
			ack("pong")
		}
	})
	http.Handle("/socket.io/", srv)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	replies, err := srv.ServerSideEmitWithAck(ctx, "ping")
	_, _ = replies, err
}

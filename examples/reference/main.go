// Command reference serves the reference app of shared/bench/BENCH-APP.md on
// 127.0.0.1:$PORT (default 3000), path /socket.io/, with the Socket.IO
// defaults, and prints "READY <port>" once it accepts connections. With
// $REDIS_URL (redis://host:port/db) it is one node of a cluster, through
// the Redis adapter that speaks @socket.io/redis-adapter's wire format
// (key prefix "socket.io"): createAdapter's classic protocol, or, with
// REDIS_ADAPTER=sharded, createShardedAdapter's (Redis 7 sharded pub/sub,
// dynamic subscriptions).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/roomcast/roomcast"
	redisadapter "github.com/roomcast/roomcast/adapter/redis"
	"github.com/roomcast/roomcast/internal/benchapp"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "reference:", err)
		os.Exit(1)
	}
}

func run() error {
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts := roomcast.Options{Logger: logger}
	if url := os.Getenv("REDIS_URL"); url != "" {
		ropts, err := goredis.ParseURL(url)
		if err != nil {
			return fmt.Errorf("REDIS_URL: %w", err)
		}
		rdb := goredis.NewClient(ropts)
		defer rdb.Close()
		// Refuse to start alone while the caller expects a cluster.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = rdb.Ping(ctx).Err()
		cancel()
		if err != nil {
			return fmt.Errorf("REDIS_URL: %w", err)
		}
		switch kind := os.Getenv("REDIS_ADAPTER"); kind {
		case "", "classic":
			opts.Adapter = redisadapter.New(rdb, &redisadapter.Options{Logger: logger})
		case "sharded":
			opts.Adapter = redisadapter.NewSharded(rdb, &redisadapter.ShardedOptions{Logger: logger})
		default:
			return fmt.Errorf("REDIS_ADAPTER=%q: want classic or sharded", kind)
		}
	}

	srv := roomcast.NewServer(opts)
	benchapp.Register(srv)

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return err
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	fmt.Printf("READY %d\n", ln.Addr().(*net.TCPAddr).Port)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return err
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Socket.IO first: its shutdown answers pending polls, which the HTTP
	// server's shutdown would otherwise wait for.
	srv.Shutdown(shutdown)
	hs.Shutdown(shutdown)
	return nil
}

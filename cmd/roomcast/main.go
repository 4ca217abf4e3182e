// Command roomcast is a standalone Socket.IO v4 server. It serves a demo
// chat at / (rooms, private messages, a live member list, and tenant
// namespaces whose rooms are apart from those of "/"), and the browser
// client at /socket.io/socket.io.js from web/node_modules.
//
//	cd web && npm ci && cd .. && go run ./cmd/roomcast
//
// Every flag has an environment variable (roomcast -h lists them). The
// server prints "READY <port>" on stdout once it accepts connections, logs
// with log/slog on stderr, and on SIGINT or SIGTERM shuts down gracefully:
// every socket is disconnected ("server shutting down"), what is queued for
// the clients is written out and their connections are closed, so that they
// reconnect to the next server (as with the Node.js server's close), all of
// it bounded by -shutdown-timeout.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/roomcast/roomcast"
	redisadapter "github.com/roomcast/roomcast/adapter/redis"
)

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "roomcast:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, stop, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "roomcast:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down. stop restores the default
// signal handling, so that a second Ctrl-C kills a slow shutdown at once.
func run(ctx context.Context, stop func(), cfg config) error {
	logger := cfg.logger(os.Stderr)
	opts := cfg.options(logger)
	if cfg.redisURL != "" {
		rdb, err := connectRedis(cfg.redisURL)
		if err != nil {
			// Refuse rather than run alone while the caller expects a cluster.
			return fmt.Errorf("-redis-url: %w", err)
		}
		defer rdb.Close()
		if cfg.redisAdapter == "sharded" {
			opts.Adapter = redisadapter.NewSharded(rdb, &redisadapter.ShardedOptions{Logger: logger})
		} else {
			opts.Adapter = redisadapter.New(rdb, &redisadapter.Options{Logger: logger})
		}
		logger.Info("roomcast: clustering through Redis", "url", redactURL(cfg.redisURL), "adapter", cfg.redisAdapter)
	}

	srv := roomcast.NewServer(opts)
	registerChat(srv, logger)

	mux := http.NewServeMux()
	mux.Handle(cfg.path, srv)
	demo, err := registerDemo(mux, cfg, logger)
	if err != nil {
		return err
	}
	checkClient(cfg, logger)

	hs := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()

	port := ln.Addr().(*net.TCPAddr).Port
	fmt.Printf("READY %d\n", port)
	attrs := []any{"addr", ln.Addr().String(), "path", cfg.path}
	if demo {
		attrs = append(attrs, "demo", openURL(ln.Addr().(*net.TCPAddr)))
	}
	logger.Info("roomcast: listening", attrs...)

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return err
	}
	stop()
	logger.Info("roomcast: shutting down", "timeout", cfg.shutdownTimeout)
	shutdown, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	// Socket.IO first: it tells the clients and answers their pending polls,
	// which the HTTP server's shutdown would otherwise wait for.
	err = errors.Join(srv.Shutdown(shutdown), hs.Shutdown(shutdown))
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("roomcast: stopped")
	return nil
}

// openURL is the demo's address for a person to open: a listener on every
// interface is reached through localhost.
func openURL(a *net.TCPAddr) string {
	host := a.IP.String()
	if a.IP.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(a.Port)) + "/"
}

// connectRedis opens a client for url and checks that Redis answers.
func connectRedis(url string) (*goredis.Client, error) {
	ropts, err := goredis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	rdb := goredis.NewClient(ropts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, err
	}
	return rdb, nil
}

// redactURL hides a password in a Redis URL before it is logged.
func redactURL(raw string) string {
	u, err := neturl.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}

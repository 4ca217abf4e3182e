// Command reference serves the reference app of shared/bench/BENCH-APP.md on
// 127.0.0.1:$PORT (default 3000), path /socket.io/, with the Socket.IO
// defaults, and prints "READY <port>" once it accepts connections.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/roomcast/roomcast"
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
	if url := os.Getenv("REDIS_URL"); url != "" {
		// Refuse rather than run alone while the caller expects a cluster.
		return errors.New("REDIS_URL is set, but the Redis adapter is not available yet")
	}

	srv := roomcast.NewServer(roomcast.Options{Logger: logger})
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

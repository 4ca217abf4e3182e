// Command conformance serves the endpoints that the official Engine.IO v4
// and Socket.IO v5 protocol test suites drive.
//
// On $PORT (default 3000), on both 127.0.0.1 and ::1 (the suites connect to
// "localhost", which may resolve to either):
//
//   - /engine.io/ is a bare Engine.IO server that sends every message straight
//     back (text as text, binary as binary, in order), with pingInterval 300 ms,
//     pingTimeout 200 ms, maxPayload 1e6 and any CORS origin.
//   - /socket.io/ is a Socket.IO server with the same heartbeat and limits,
//     a connect timeout of 1000 ms and the namespaces "/" and "/custom" only.
//     On every connection it emits "auth" with the client's CONNECT payload
//     ({} when none); in "/", "message" is answered by "message-back" with the
//     same arguments and "message-with-ack" is acked with them, binary
//     included, the JSON byte for byte.
package main

import (
	"context"
	"encoding/json"
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
	"github.com/roomcast/roomcast/engineio"
)

// echo sends every message of one session back to it.
type echo struct{ s *engineio.Session }

func (e echo) OnMessage(data []byte, binary bool) {
	if binary {
		e.s.Send(engineio.BinaryMessage(data))
	} else {
		e.s.Send(engineio.TextMessage(data))
	}
}

func (e echo) OnClose(engineio.Reason, error) {}

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	eio := engineio.NewServer(engineio.Options{
		Path:          "/engine.io/",
		PingInterval:  300 * time.Millisecond,
		PingTimeout:   200 * time.Millisecond,
		MaxBufferSize: 1e6,
		CORS:          &engineio.CORSOptions{Origins: []string{"*"}},
		Logger:        logger,
	}, func(s *engineio.Session) engineio.Receiver { return echo{s} })

	sio := newSocketIO(logger)

	mux := http.NewServeMux()
	mux.Handle("/engine.io/", eio)
	mux.Handle("/socket.io/", sio)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	var listeners []net.Listener
	for _, host := range []string{"127.0.0.1", "::1"} {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
		if err != nil {
			if host == "::1" {
				logger.Warn("no IPv6 loopback; serving IPv4 only", "err", err)
				continue
			}
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		listeners = append(listeners, ln)
	}
	for _, ln := range listeners {
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("serve", "err", err)
			}
		}()
	}
	fmt.Printf("READY %s\n", port)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// The Engine.IO and Socket.IO shutdowns answer pending polls, which the
	// HTTP server's shutdown would otherwise wait for.
	eio.Shutdown(shutdown)
	sio.Shutdown(shutdown)
	srv.Shutdown(shutdown)
}

// authDelay separates the "auth" packet from the CONNECT reply (see sendAuth).
const authDelay = 10 * time.Millisecond

// newSocketIO builds the Socket.IO endpoint the v5 protocol suite drives.
func newSocketIO(logger *slog.Logger) *roomcast.Server {
	sio := roomcast.NewServer(roomcast.Options{
		PingInterval:      300 * time.Millisecond,
		PingTimeout:       200 * time.Millisecond,
		MaxHTTPBufferSize: 1e6,
		ConnectTimeout:    1000 * time.Millisecond,
		CORS:              &engineio.CORSOptions{Origins: []string{"*"}},
		Logger:            logger,
	})
	// The v5 suite's waitFor registers its next listener only after the
	// CONNECT reply was handled, and misses a packet that arrived in the same
	// read (socketio/socket.io-protocol issue #32). Roomcast writes all that
	// is queued in one write, so "auth" is sent a moment later, in its own
	// write, rather than coalesced with the CONNECT reply.
	sendAuth := func(s *roomcast.Socket) {
		auth := roomcast.RawArgs{Args: []json.RawMessage{s.Handshake().Auth}}
		time.AfterFunc(authDelay, func() { s.Emit("auth", auth) })
	}
	sio.OnConnection(func(s *roomcast.Socket) {
		sendAuth(s)
		s.On("message", func(e *roomcast.Event) {
			s.Emit("message-back", e.RawArgs())
		})
		s.On("message-with-ack", func(e *roomcast.Event) {
			e.Ack(e.RawArgs())
		})
	})
	sio.Of("/custom").OnConnection(sendAuth)
	return sio
}

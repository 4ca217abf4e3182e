// Command features serves the Socket.IO app that interop/features.test.mjs
// drives with the official socket.io-client, to check server-side semantics
// the reference app does not cover: catch-all handler order, per-event
// middlewares, server-to-client acknowledgements, server-side disconnection,
// reserved event names, the handshake, socket data and FetchSockets, handler
// panics, namespace middlewares, dynamic namespaces and volatile emits.
//
// It listens on 127.0.0.1:$PORT (default 3000), path /socket.io/, prints
// "READY <port>" once it accepts connections, and exits on SIGTERM or SIGINT
// after shutting the Socket.IO server down.
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
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/roomcast/roomcast"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "features:", err)
		os.Exit(1)
	}
}

func run() error {
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	// Handler panics are logged at error level; keep them on stderr, which the
	// tests show when the server fails.
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv := roomcast.NewServer(roomcast.Options{Logger: logger})
	register(srv)

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
	if err := srv.Shutdown(shutdown); err != nil {
		logger.Warn("socket.io shutdown", "err", err)
	}
	return hs.Shutdown(shutdown)
}

// eventLog records, per socket, which handlers saw which events.
type eventLog struct {
	mu      sync.Mutex
	entries []string
}

func (l *eventLog) add(entry string) {
	l.mu.Lock()
	l.entries = append(l.entries, entry)
	l.mu.Unlock()
}

func (l *eventLog) snapshot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string{}, l.entries...)
}

// ack answers e's acknowledgement when the client asked for one.
func ack(e *roomcast.Event, args ...any) {
	if e.HasAck() {
		e.Ack(args...)
	}
}

// echo acks the event's arguments unchanged.
func echo(e *roomcast.Event) { ack(e, e.RawArgs()) }

func register(srv *roomcast.Server) {
	srv.OnConnection(func(s *roomcast.Socket) { mainHandlers(srv, s) })

	// A second static namespace, to check that disconnecting "/" leaves the
	// client's other namespaces alone.
	srv.Of("/other").OnConnection(func(s *roomcast.Socket) {
		s.On("echo", echo)
	})

	// A namespace whose middleware refuses with a plain error, not a
	// *roomcast.ConnectError: the client gets its text and no data.
	plain := srv.Of("/plain")
	plain.Use(func(ctx context.Context, s *roomcast.Socket) error {
		return errors.New("plain refusal")
	})
	plain.OnConnection(func(s *roomcast.Socket) { s.On("echo", echo) })

	// A dynamic namespace: "/vip" exists only for clients whose auth has
	// tier "gold"; the others get "Invalid namespace".
	vip := srv.OfFunc(func(name string, auth json.RawMessage) bool {
		if name != "/vip" {
			return false
		}
		var a struct {
			Tier string `json:"tier"`
		}
		return json.Unmarshal(auth, &a) == nil && a.Tier == "gold"
	})
	vip.OnConnection(func(s *roomcast.Socket) {
		s.On("echo", echo)
		s.On("nsp", func(e *roomcast.Event) { ack(e, s.Namespace().Name()) })
	})
}

func mainHandlers(srv *roomcast.Server, s *roomcast.Socket) {
	log := &eventLog{}

	// 1. Catch-all order: added in this order, PrependAny must still run
	// first, then OnAny, then the named handler.
	s.OnAny(func(e *roomcast.Event) { log.add("any:" + e.Name) })
	s.PrependAny(func(e *roomcast.Event) { log.add("first:" + e.Name) })
	s.On("ping", func(e *roomcast.Event) {
		log.add("named:ping")
		ack(e, "pong")
	})
	s.On("log", func(e *roomcast.Event) { ack(e, log.snapshot()) })

	// 2. Per-event middleware: "forbidden" is refused; its named handler
	// must never run.
	s.Use(func(e *roomcast.Event) error {
		if e.Name == "forbidden" {
			return errors.New("forbidden event")
		}
		return nil
	})
	s.On("forbidden", func(e *roomcast.Event) {
		log.add("named:forbidden")
		ack(e, "should not happen")
	})

	// 3. Server-to-client acknowledgement: ask the client a question and
	// ack its answer (a string as is, bytes as their length), or the error.
	s.On("ask-me", func(e *roomcast.Event) {
		reply, err := s.Timeout(time.Second).EmitWithAck(s.Context(), "question", "what?")
		if err != nil {
			ack(e, map[string]string{"error": err.Error()})
			return
		}
		var answer any
		if err := reply.Bind(&answer); err != nil {
			ack(e, map[string]string{"error": "bind: " + err.Error()})
			return
		}
		switch a := answer.(type) {
		case []byte:
			ack(e, map[string]any{"binaryLength": len(a)})
		default:
			ack(e, a)
		}
	})

	// 4. Server-side disconnection: this namespace only, then the whole
	// connection.
	s.On("kick-me", func(e *roomcast.Event) { s.Disconnect(false) })
	s.On("kick-all", func(e *roomcast.Event) { s.Disconnect(true) })

	// 5. Reserved event names cannot be emitted.
	s.On("emit-reserved", func(e *roomcast.Event) {
		texts := make([]string, 0, 2)
		for _, name := range []string{"connect", "disconnecting"} {
			if err := s.Emit(name); err != nil {
				texts = append(texts, err.Error())
			} else {
				texts = append(texts, "")
			}
		}
		ack(e, texts)
	})

	// 6. The handshake, as JSON.
	s.On("handshake", func(e *roomcast.Event) { ack(e, s.Handshake()) })

	// 7. Socket data and FetchSockets: every named socket of "/", sorted.
	s.On("set-name", func(e *roomcast.Event) {
		var name string
		if err := e.Bind(&name); err != nil {
			ack(e, map[string]string{"error": err.Error()})
			return
		}
		s.Data().Set("name", name)
		ack(e, true)
	})
	s.On("names", func(e *roomcast.Event) {
		ctx, cancel := context.WithTimeout(s.Context(), 2*time.Second)
		defer cancel()
		sockets, err := srv.FetchSockets(ctx)
		if err != nil {
			ack(e, map[string]string{"error": err.Error()})
			return
		}
		names := []string{}
		for _, r := range sockets {
			if name, ok := r.Data()["name"].(string); ok {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		ack(e, names)
	})

	// 8. A handler panic must be recovered; the socket keeps working.
	s.On("panic", func(e *roomcast.Event) { panic("features: deliberate panic in a handler") })
	s.On("echo", echo)

	// 11. A volatile emit to a socket that can take it now.
	s.On("volatile-me", func(e *roomcast.Event) {
		s.Volatile().Emit("v", 1)
	})
}

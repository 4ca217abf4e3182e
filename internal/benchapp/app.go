// Package benchapp is the reference application of shared/bench/BENCH-APP.md:
// the one Socket.IO app that benchmarks and behaviour checks drive on every
// server they compare.
package benchapp

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/roomcast/roomcast"
)

// TenantPattern matches the dynamic tenant namespaces.
var TenantPattern = regexp.MustCompile(`^/tenant-[a-z0-9]+$`)

// askTimeout is how long "ask" and "server-ping" wait for replies.
const askTimeout = 2000 * time.Millisecond

// Register installs the app on srv: namespaces "/", "/bench", "/admin" and
// the tenant namespaces.
func Register(srv *roomcast.Server) {
	main := srv.Sockets()
	main.OnConnection(func(s *roomcast.Socket) {
		handlers(s)
		observeDisconnect(srv, s)
	})
	srv.Of("/bench").OnConnection(handlers)

	admin := srv.Of("/admin")
	admin.Use(func(_ context.Context, s *roomcast.Socket) error {
		var auth struct {
			Token any `json:"token"`
		}
		json.Unmarshal(s.Auth(), &auth)
		if auth.Token != "secret" {
			return &roomcast.ConnectError{Message: "unauthorized", Data: map[string]any{"code": 401}}
		}
		return nil
	})
	admin.OnConnection(handlers)

	tenants := srv.OfRegexp(TenantPattern)
	tenants.OnConnection(func(s *roomcast.Socket) {
		s.Emit("hello", s.Namespace().Name())
		handlers(s)
	})

	// Every server answers a server-side "ping" with "pong", in every namespace
	// that can receive one.
	for _, ns := range []*roomcast.Namespace{main, srv.Of("/bench"), admin} {
		ns.OnServerSideEmit("ping", pong)
	}
	srv.OnNamespaceCreated(func(ns *roomcast.Namespace) {
		if TenantPattern.MatchString(ns.Name()) {
			ns.OnServerSideEmit("ping", pong)
		}
	})
}

func pong(_ *roomcast.Event, ack func(args ...any)) {
	if ack != nil {
		ack("pong")
	}
}

// observeDisconnect tells room "observers" of "/" how a socket of "/" left:
// its rooms as seen while disconnecting, and how many it still had once
// disconnected.
func observeDisconnect(srv *roomcast.Server, s *roomcast.Socket) {
	var before []string
	s.OnDisconnecting(func(roomcast.Reason) { before = sortedRooms(s.Rooms()) })
	s.OnDisconnect(func(roomcast.Reason) {
		srv.To("observers").Emit("left", s.ID(), before, len(s.Rooms()))
	})
}

func sortedRooms(rooms []roomcast.Room) []string {
	out := make([]string, len(rooms))
	for i, r := range rooms {
		out[i] = string(r)
	}
	sort.Strings(out)
	return out
}

// handlers joins the socket to the room its auth names and gives it the
// app's event handlers.
func handlers(s *roomcast.Socket) {
	var auth struct {
		Room any `json:"room"`
	}
	json.Unmarshal(s.Auth(), &auth)
	if room, ok := auth.Room.(string); ok {
		s.Join(roomcast.Room(room))
	}
	s.OnSet(eventHandlers)
}

// eventHandlers are the handlers of every namespace, one set shared by all
// sockets: each finds its socket, and so its namespace, from the event.
var eventHandlers = roomcast.NewHandlerSet(map[string]roomcast.EventHandler{
	"join":             onJoin,
	"leave":            onLeave,
	"echo":             func(e *roomcast.Event) { e.Ack(arg(e, 0)) },
	"broadcast":        onBroadcast,
	"broadcast-others": onBroadcastOthers,
	"broadcast-all":    func(e *roomcast.Event) { e.Socket().Namespace().Emit("msg", arg(e, 0)) },
	"count":            onCount,
	"broadcast-rooms":  onBroadcastRooms,
	"broadcast-except": onBroadcastExcept,
	"private":          onPrivate,
	"rooms":            func(e *roomcast.Event) { e.Ack(sortedRooms(e.Socket().Rooms())) },
	"fetch-ids":        onFetchIDs,
	"sockets-join":     onSocketsJoin,
	"sockets-leave":    onSocketsLeave,
	"disconnect-room":  onDisconnectRoom,
	"ask":              onAsk,
	"server-ping":      onServerPing,
})

func onJoin(e *roomcast.Event) {
	var room string
	if err := e.Bind(&room); err != nil {
		return
	}
	e.Socket().Join(roomcast.Room(room))
	e.Ack(true)
}

func onLeave(e *roomcast.Event) {
	var room string
	if err := e.Bind(&room); err != nil {
		return
	}
	e.Socket().Leave(roomcast.Room(room))
	e.Ack(true)
}

func onBroadcast(e *roomcast.Event) {
	var room string
	if err := e.Bind(&room); err != nil {
		return
	}
	e.Socket().Namespace().To(roomcast.Room(room)).Emit("msg", arg(e, 1))
}

func onBroadcastOthers(e *roomcast.Event) {
	var room string
	if err := e.Bind(&room); err != nil {
		return
	}
	e.Socket().To(roomcast.Room(room)).Emit("msg", arg(e, 1))
}

func onCount(e *roomcast.Event) {
	var room string
	if err := e.Bind(&room); err != nil {
		return
	}
	e.Ack(len(e.Socket().Namespace().In(roomcast.Room(room)).SocketIDs()))
}

func onBroadcastRooms(e *roomcast.Event) {
	var rooms []string
	if err := e.Bind(&rooms); err != nil {
		return
	}
	op := e.Socket().Namespace().To() // no room at all reaches everybody, as io.emit does
	for _, r := range rooms {
		op = op.To(roomcast.Room(r))
	}
	op.Emit("msg", arg(e, 1))
}

func onBroadcastExcept(e *roomcast.Event) {
	var room, except string
	if err := e.Bind(&room, &except); err != nil {
		return
	}
	e.Socket().Namespace().To(roomcast.Room(room)).Except(roomcast.Room(except)).Emit("msg", arg(e, 2))
}

func onPrivate(e *roomcast.Event) {
	var sid string
	if err := e.Bind(&sid); err != nil {
		return
	}
	s := e.Socket()
	s.To(roomcast.Room(sid)).Emit("private", s.ID(), arg(e, 1))
}

// Cluster-wide operations wait on other servers: like an async handler in
// Node.js, they must not hold up this socket's next events.
func onFetchIDs(e *roomcast.Event) {
	var room string
	if err := e.Bind(&room); err != nil {
		return
	}
	ns := e.Socket().Namespace()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		socks, _ := ns.In(roomcast.Room(room)).FetchSockets(ctx)
		ids := make([]string, len(socks))
		for i, rs := range socks {
			ids[i] = rs.ID()
		}
		sort.Strings(ids)
		e.Ack(ids)
	}()
}

func onSocketsJoin(e *roomcast.Event) {
	var room, newRoom string
	if err := e.Bind(&room, &newRoom); err != nil {
		return
	}
	e.Socket().Namespace().In(roomcast.Room(room)).SocketsJoin(context.Background(), roomcast.Room(newRoom))
	e.Ack(true)
}

func onSocketsLeave(e *roomcast.Event) {
	var room, oldRoom string
	if err := e.Bind(&room, &oldRoom); err != nil {
		return
	}
	e.Socket().Namespace().In(roomcast.Room(room)).SocketsLeave(context.Background(), roomcast.Room(oldRoom))
	e.Ack(true)
}

func onDisconnectRoom(e *roomcast.Event) {
	var room string
	if err := e.Bind(&room); err != nil {
		return
	}
	e.Ack(true)
	e.Socket().Namespace().In(roomcast.Room(room)).DisconnectSockets(context.Background(), true)
}

func onAsk(e *roomcast.Event) {
	var room string
	if err := e.Bind(&room); err != nil {
		return
	}
	payload := arg(e, 1)
	ns := e.Socket().Namespace()
	go func() {
		replies, err := ns.To(roomcast.Room(room)).Timeout(askTimeout).
			EmitWithAck(context.Background(), "ask", payload)
		e.Ack(askResult(replies, err))
	}()
}

func onServerPing(e *roomcast.Event) {
	ns := e.Socket().Namespace()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), askTimeout)
		defer cancel()
		replies, _ := ns.ServerSideEmitWithAck(ctx, "ping")
		e.Ack(len(replies))
	}()
}

// arg returns argument i as received, binary parts included, or null.
func arg(e *roomcast.Event, i int) roomcast.RawArgs {
	if i >= len(e.Args) {
		return roomcast.RawArgs{Args: []json.RawMessage{json.RawMessage("null")}}
	}
	return roomcast.RawArgs{Args: e.Args[i : i+1], Attachments: e.Attachments}
}

// askResult is {"replies": the first argument of each reply, sorted as
// JavaScript's default sort does (by string form), "error": null or the
// error's message}.
func askResult(replies []roomcast.Reply, err error) map[string]any {
	type reply struct {
		raw   json.RawMessage // as received, for sorting
		value any             // what is sent back: raw JSON, or decoded with its binary parts
	}
	sorted := make([]reply, 0, len(replies))
	for _, r := range replies {
		rep := reply{raw: json.RawMessage("null")}
		if len(r.Args) > 0 {
			rep.raw = r.Args[0]
		}
		rep.value = rep.raw
		if len(r.Attachments) > 0 {
			var v any
			if r.Bind(&v) == nil {
				rep.value = v // binary parts travel as attachments again
			}
		}
		sorted = append(sorted, rep)
	}
	slices.SortStableFunc(sorted, func(a, b reply) int {
		return strings.Compare(jsString(a.raw), jsString(b.raw))
	})
	values := make([]any, len(sorted))
	for i, r := range sorted {
		values[i] = r.value
	}
	var msg any
	if err != nil {
		if errors.Is(err, roomcast.ErrTimeout) {
			msg = roomcast.ErrTimeout.Error()
		} else {
			msg = err.Error()
		}
	}
	return map[string]any{"replies": values, "error": msg}
}

// jsString approximates String(value) for JSON scalars: strings unquoted,
// everything else as written.
func jsString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/roomcast/roomcast"
)

// The demo chat: the events web/app.js sends and receives. The same
// handlers serve "/" and every tenant namespace "/tenant-<id>", whose rooms
// are apart from those of "/" and of the other tenants.
//
// Client to server, each answered through its acknowledgement with
// {"ok": true} or {"ok": false, "error": "..."}:
//
//	join (room)               join a room
//	leave (room)              leave it
//	post (room, text)         send a message to a room the socket is in
//	private (socketID, text)  send a message to one socket of the namespace
//
// Server to client:
//
//	presence {room, members, joined?, left?}  a room's members, on every join, leave and disconnect
//	message {room, from, text, at}            a message to a room, its sender included
//	private {from, to, text, at}              a private message
//
// members, from, joined and left are {id, name}; at is Unix milliseconds.
// The name comes from the auth payload of the connection, {"name": "..."}.

var (
	tenantNamespace = regexp.MustCompile(`^/tenant-[a-z0-9]{1,32}$`)
	roomName        = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
	socketID        = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

const (
	maxNameLen = 24  // characters
	maxTextLen = 500 // characters
	fetchTime  = 2 * time.Second
)

type member struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type presence struct {
	Room    string   `json:"room"`
	Members []member `json:"members"`
	Joined  *member  `json:"joined,omitempty"`
	Left    *member  `json:"left,omitempty"`
}

type message struct {
	Room string `json:"room,omitempty"`
	From member `json:"from"`
	To   string `json:"to,omitempty"`
	Text string `json:"text"`
	At   int64  `json:"at"`
}

type ack struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// chatRoom is the room of the adapter behind a chat room's name: the
// prefix keeps a chat room from being named like a socket id, which would
// let its members read that socket's private messages.
func chatRoom(name string) roomcast.Room { return roomcast.Room("chat:" + name) }

type chat struct{ log *slog.Logger }

// registerChat sets up the demo chat on "/" and on the tenant namespaces.
func registerChat(srv *roomcast.Server, logger *slog.Logger) {
	c := &chat{log: logger}
	srv.Use(c.admit)
	srv.OnConnection(c.connected)
	tenants := srv.OfRegexp(tenantNamespace)
	tenants.Use(c.admit)
	tenants.OnConnection(c.connected)
}

// admit takes the name from the auth payload, refusing a connection
// without a usable one.
func (c *chat) admit(_ context.Context, s *roomcast.Socket) error {
	var auth struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(s.Handshake().Auth, &auth)
	name := strings.TrimSpace(auth.Name)
	n := utf8.RuneCountInString(name)
	if n == 0 || n > maxNameLen || strings.ContainsFunc(name, unicode.IsControl) {
		return &roomcast.ConnectError{Message: "choose a name of 1 to 24 characters"}
	}
	s.Data().Set("name", name)
	return nil
}

func (c *chat) connected(s *roomcast.Socket) {
	c.log.Debug("chat: connected", "nsp", s.Namespace().Name(), "id", s.ID(), "name", nameOf(s.Data().Snapshot()))
	s.On("join", c.handle(s, c.join))
	s.On("leave", c.handle(s, c.leave))
	s.On("post", c.handle(s, c.post))
	s.On("private", c.handle(s, c.private))

	// The rooms are left between the two hooks: remember them in the first,
	// tell their members in the second, once the list no longer has s.
	var rooms []roomcast.Room
	s.OnDisconnecting(func(roomcast.Reason) { rooms = s.Rooms() })
	s.OnDisconnect(func(reason roomcast.Reason) {
		c.log.Debug("chat: disconnected", "nsp", s.Namespace().Name(), "id", s.ID(), "reason", reason)
		me := self(s)
		for _, r := range rooms {
			if name, ok := strings.CutPrefix(string(r), "chat:"); ok {
				c.publish(s.Namespace(), name, nil, &me)
			}
		}
	})
}

// handle adapts a handler that returns an error to an event handler that
// acknowledges with it.
func (c *chat) handle(s *roomcast.Socket, h func(*roomcast.Socket, *roomcast.Event) error) roomcast.EventHandler {
	return func(e *roomcast.Event) {
		err := h(s, e)
		if err != nil {
			c.log.Debug("chat: refused", "event", e.Name, "id", s.ID(), "err", err)
		}
		if !e.HasAck() {
			return
		}
		if err != nil {
			e.Ack(ack{Error: err.Error()})
		} else {
			e.Ack(ack{OK: true})
		}
	}
}

func (c *chat) join(s *roomcast.Socket, e *roomcast.Event) error {
	room, err := bindRoom(e)
	if err != nil {
		return err
	}
	if !slices.Contains(s.Rooms(), chatRoom(room)) {
		s.Join(chatRoom(room))
		me := self(s)
		c.publish(s.Namespace(), room, &me, nil)
	}
	return nil
}

func (c *chat) leave(s *roomcast.Socket, e *roomcast.Event) error {
	room, err := bindRoom(e)
	if err != nil {
		return err
	}
	if slices.Contains(s.Rooms(), chatRoom(room)) {
		s.Leave(chatRoom(room))
		me := self(s)
		c.publish(s.Namespace(), room, nil, &me)
	}
	return nil
}

func (c *chat) post(s *roomcast.Socket, e *roomcast.Event) error {
	var room, text string
	if err := e.Bind(&room, &text); err != nil || !roomName.MatchString(room) {
		return errors.New("post wants a room name and a text")
	}
	text, err := checkText(text)
	if err != nil {
		return err
	}
	if !slices.Contains(s.Rooms(), chatRoom(room)) {
		return errors.New("join the room first")
	}
	return s.Namespace().To(chatRoom(room)).Emit("message",
		message{Room: room, From: self(s), Text: text, At: time.Now().UnixMilli()})
}

func (c *chat) private(s *roomcast.Socket, e *roomcast.Event) error {
	var to, text string
	if err := e.Bind(&to, &text); err != nil || !socketID.MatchString(to) {
		return errors.New("private wants a socket id and a text")
	}
	if to == s.ID() {
		return errors.New("that is your own id")
	}
	text, err := checkText(text)
	if err != nil {
		return err
	}
	// A socket's own room holds it alone, wherever it is in the cluster.
	ctx, cancel := context.WithTimeout(s.Context(), fetchTime)
	defer cancel()
	found, err := s.Namespace().In(roomcast.Room(to)).FetchSockets(ctx)
	if err != nil {
		return errors.New("the server could not look that socket up")
	}
	if len(found) == 0 {
		return errors.New("no socket " + to + " in " + s.Namespace().Name())
	}
	return s.To(roomcast.Room(to)).Emit("private",
		message{From: self(s), To: to, Text: text, At: time.Now().UnixMilli()})
}

// publish sends a room's member list to its members, with who came or went.
func (c *chat) publish(ns *roomcast.Namespace, room string, joined, left *member) {
	ctx, cancel := context.WithTimeout(context.Background(), fetchTime)
	defer cancel()
	found, err := ns.In(chatRoom(room)).FetchSockets(ctx)
	if err != nil {
		c.log.Warn("chat: cannot list a room's members", "nsp", ns.Name(), "room", room, "err", err)
		return
	}
	members := make([]member, 0, len(found))
	for _, rs := range found {
		members = append(members, member{ID: rs.ID(), Name: nameOf(rs.Data())})
	}
	slices.SortFunc(members, func(a, b member) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	ns.To(chatRoom(room)).Emit("presence", presence{Room: room, Members: members, Joined: joined, Left: left})
}

func self(s *roomcast.Socket) member {
	return member{ID: s.ID(), Name: nameOf(s.Data().Snapshot())}
}

func nameOf(data map[string]any) string {
	name, _ := data["name"].(string)
	return name
}

func bindRoom(e *roomcast.Event) (string, error) {
	var room string
	if err := e.Bind(&room); err != nil || !roomName.MatchString(room) {
		return "", errors.New("a room name is 1 to 32 letters, digits, - or _")
	}
	return room, nil
}

func checkText(text string) (string, error) {
	text = strings.TrimSpace(text)
	switch n := utf8.RuneCountInString(text); {
	case n == 0:
		return "", errors.New("the message is empty")
	case n > maxTextLen:
		return "", errors.New("the message is longer than 500 characters")
	}
	return text, nil
}

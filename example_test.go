package roomcast_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/roomcast/roomcast"
	"github.com/roomcast/roomcast/internal/sioclient"
)

// The examples follow the stories of the Socket.IO documentation on rooms and
// namespaces. Each one serves a real server and connects real clients (the
// project's small test client) so that its output is what clients receive.

// exampleServer serves srv and returns its URL and a stop function.
func exampleServer(srv *roomcast.Server) (string, func()) {
	hs := httptest.NewServer(srv)
	return hs.URL, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		hs.CloseClientConnections()
		hs.Close()
	}
}

// client connects to the namespace and returns the client and socket id.
func client(url, nsp string, auth any) (*sioclient.Client, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := sioclient.Dial(ctx, sioclient.URL(url, "/socket.io/"))
	if err != nil {
		panic(err)
	}
	sid, err := c.Connect(ctx, nsp, auth)
	if err != nil {
		fmt.Println(err)
	}
	return c, sid
}

// received describes the next event the client gets, or "nothing".
func received(c *sioclient.Client, nsp string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	name, args, _, err := c.NextEvent(ctx, nsp)
	if err != nil {
		return "nothing"
	}
	parts := []string{name}
	for _, a := range args {
		parts = append(parts, string(a))
	}
	return strings.Join(parts, " ")
}

func Example_rooms() {
	srv := roomcast.NewServer(roomcast.Options{})
	srv.OnConnection(func(s *roomcast.Socket) {
		s.Join("some room")
		s.On("ready", func(e *roomcast.Event) {
			srv.To("some room").Emit("some event", "hello room")
			e.Ack()
		})
	})
	url, stop := exampleServer(srv)
	defer stop()

	a, _ := client(url, "/", nil)
	b, _ := client(url, "/", nil)
	a.EmitWithAck(context.Background(), "/", "ready")
	fmt.Println("a:", received(a, "/"))
	fmt.Println("b:", received(b, "/"))
	// Output:
	// a: some event "hello room"
	// b: some event "hello room"
}

func Example_severalRooms() {
	srv := roomcast.NewServer(roomcast.Options{})
	srv.OnConnection(func(s *roomcast.Socket) {
		var rooms []roomcast.Room
		var auth struct{ Rooms []roomcast.Room }
		json.Unmarshal(s.Handshake().Auth, &auth)
		rooms = auth.Rooms
		s.Join(rooms...)
	})
	url, stop := exampleServer(srv)
	defer stop()

	both, _ := client(url, "/", map[string]any{"rooms": []string{"room1", "room2"}})
	one, _ := client(url, "/", map[string]any{"rooms": []string{"room2"}})
	none, _ := client(url, "/", nil)
	// A union: a socket in both rooms gets the event once.
	srv.To("room1").To("room2").Emit("some event")
	fmt.Println("both:", received(both, "/"), "then", received(both, "/"))
	fmt.Println("one:", received(one, "/"))
	fmt.Println("none:", received(none, "/"))
	// Output:
	// both: some event then nothing
	// one: some event
	// none: nothing
}

func Example_broadcastFromSocket() {
	srv := roomcast.NewServer(roomcast.Options{})
	srv.OnConnection(func(s *roomcast.Socket) {
		s.Join("chat")
		s.On("say", func(e *roomcast.Event) {
			var text string
			e.Bind(&text)
			// Everyone in the room but the sender.
			s.To("chat").Emit("said", text)
		})
	})
	url, stop := exampleServer(srv)
	defer stop()

	sender, _ := client(url, "/", nil)
	other, _ := client(url, "/", nil)
	sender.Emit("/", "say", "hi")
	fmt.Println("other:", received(other, "/"))
	fmt.Println("sender:", received(sender, "/"))
	// Output:
	// other: said "hi"
	// sender: nothing
}

func Example_privateMessage() {
	srv := roomcast.NewServer(roomcast.Options{})
	srv.OnConnection(func(s *roomcast.Socket) {
		s.On("private message", func(e *roomcast.Event) {
			var to, msg string
			if e.Bind(&to, &msg) != nil {
				return
			}
			// Every socket is in the room named by its id.
			s.To(roomcast.Room(to)).Emit("private message", "from a friend", msg)
		})
	})
	url, stop := exampleServer(srv)
	defer stop()

	alice, _ := client(url, "/", nil)
	bob, bobID := client(url, "/", nil)
	carol, _ := client(url, "/", nil)
	alice.Emit("/", "private message", bobID, "psst")
	fmt.Println("bob:", received(bob, "/"))
	fmt.Println("carol:", received(carol, "/"))
	// Output:
	// bob: private message "from a friend" "psst"
	// carol: nothing
}

func Example_allDevicesOfAUser() {
	srv := roomcast.NewServer(roomcast.Options{})
	srv.OnConnection(func(s *roomcast.Socket) {
		var auth struct{ User string }
		json.Unmarshal(s.Handshake().Auth, &auth)
		s.Join(roomcast.Room("user:" + auth.User))
	})
	url, stop := exampleServer(srv)
	defer stop()

	phone, _ := client(url, "/", map[string]string{"user": "42"})
	laptop, _ := client(url, "/", map[string]string{"user": "42"})
	someoneElse, _ := client(url, "/", map[string]string{"user": "7"})
	srv.To("user:42").Emit("notification", "your order shipped")
	fmt.Println("phone:", received(phone, "/"))
	fmt.Println("laptop:", received(laptop, "/"))
	fmt.Println("someone else:", received(someoneElse, "/"))
	// Output:
	// phone: notification "your order shipped"
	// laptop: notification "your order shipped"
	// someone else: nothing
}

func Example_entityNotifications() {
	srv := roomcast.NewServer(roomcast.Options{})
	srv.OnConnection(func(s *roomcast.Socket) {
		s.On("follow", func(e *roomcast.Event) {
			var project string
			e.Bind(&project)
			s.Join(roomcast.Room("project:" + project))
			e.Ack()
		})
	})
	url, stop := exampleServer(srv)
	defer stop()

	watcher, _ := client(url, "/", nil)
	bystander, _ := client(url, "/", nil)
	watcher.EmitWithAck(context.Background(), "/", "follow", "4321")
	srv.To("project:4321").Emit("project updated", map[string]any{"id": 4321, "status": "done"})
	fmt.Println("watcher:", received(watcher, "/"))
	fmt.Println("bystander:", received(bystander, "/"))
	// Output:
	// watcher: project updated {"id":4321,"status":"done"}
	// bystander: nothing
}

func Example_disconnecting() {
	srv := roomcast.NewServer(roomcast.Options{})
	done := make(chan struct{})
	srv.OnConnection(func(s *roomcast.Socket) {
		s.Join("room1", "room2")
		s.OnDisconnecting(func(reason roomcast.Reason) {
			// Still in its rooms: tell them.
			var names []string
			for _, r := range s.Rooms() {
				if string(r) != s.ID() {
					names = append(names, string(r))
				}
			}
			sort.Strings(names)
			fmt.Println("disconnecting:", reason, names)
		})
		s.OnDisconnect(func(reason roomcast.Reason) {
			fmt.Println("disconnect:", reason, "rooms left:", len(s.Rooms()))
			close(done)
		})
	})
	url, stop := exampleServer(srv)
	defer stop()

	c, _ := client(url, "/", nil)
	c.Close()
	<-done
	// Output:
	// disconnecting: transport close [room1 room2]
	// disconnect: transport close rooms left: 0
}

func Example_namespaces() {
	srv := roomcast.NewServer(roomcast.Options{})
	srv.OnConnection(func(s *roomcast.Socket) { s.Join("room") })
	orders := srv.Of("/orders")
	orders.OnConnection(func(s *roomcast.Socket) { s.Join("room") })
	url, stop := exampleServer(srv)
	defer stop()

	main, _ := client(url, "/", nil)
	shop, _ := client(url, "/orders", nil)
	// A room of one namespace has nothing to do with a room of the same
	// name in another.
	orders.To("room").Emit("order", 1)
	fmt.Println("main:", received(main, "/"))
	fmt.Println("orders:", received(shop, "/orders"))
	// Output:
	// main: nothing
	// orders: order 1
}

func Example_adminNamespace() {
	srv := roomcast.NewServer(roomcast.Options{})
	admin := srv.Of("/admin")
	admin.Use(func(_ context.Context, s *roomcast.Socket) error {
		var auth struct{ Token string }
		json.Unmarshal(s.Handshake().Auth, &auth)
		if auth.Token != "secret" {
			return &roomcast.ConnectError{Message: "unauthorized", Data: map[string]int{"code": 401}}
		}
		return nil
	})
	admin.OnConnection(func(s *roomcast.Socket) { s.Emit("welcome", "admin") })
	url, stop := exampleServer(srv)
	defer stop()

	client(url, "/admin", map[string]string{"token": "guess"})
	ok, _ := client(url, "/admin", map[string]string{"token": "secret"})
	fmt.Println("admitted:", received(ok, "/admin"))
	// Output:
	// connect_error {"message":"unauthorized","data":{"code":401}}
	// admitted: welcome "admin"
}

func Example_dynamicNamespaces() {
	srv := roomcast.NewServer(roomcast.Options{})
	tenants := srv.OfRegexp(regexp.MustCompile(`^/tenant-\w+$`))
	tenants.OnConnection(func(s *roomcast.Socket) {
		s.Join("news")
		s.Emit("hello", s.Namespace().Name())
	})
	url, stop := exampleServer(srv)
	defer stop()

	a, _ := client(url, "/tenant-a", nil)
	b, _ := client(url, "/tenant-b", nil)
	fmt.Println("a:", received(a, "/tenant-a"))
	fmt.Println("b:", received(b, "/tenant-b"))
	// Each tenant's rooms are its own.
	srv.Of("/tenant-a").To("news").Emit("news", "for a")
	fmt.Println("a:", received(a, "/tenant-a"))
	fmt.Println("b:", received(b, "/tenant-b"))
	// Output:
	// a: hello "/tenant-a"
	// b: hello "/tenant-b"
	// a: news "for a"
	// b: nothing
}

func Example_mainNamespace() {
	srv := roomcast.NewServer(roomcast.Options{})
	url, stop := exampleServer(srv)
	defer stop()

	c, _ := client(url, "/", nil)
	// The server's own methods act on the main namespace "/".
	srv.Emit("one")
	srv.Sockets().Emit("two")
	srv.Of("/").Emit("three")
	fmt.Println(received(c, "/"), received(c, "/"), received(c, "/"))
	// Output:
	// one two three
}

// A HandlerSet is made once and given to every socket: a server with many
// connections keeps one list of handlers, not a list (and closures) per
// socket. Each handler finds its socket from the event.
func ExampleHandlerSet() {
	chat := roomcast.NewHandlerSet(map[string]roomcast.EventHandler{
		"join": func(e *roomcast.Event) {
			var room string
			if e.Bind(&room) == nil {
				e.Socket().Join(roomcast.Room(room))
				e.Ack(true)
			}
		},
		"say": func(e *roomcast.Event) {
			var room, msg string
			if e.Bind(&room, &msg) == nil {
				e.Socket().To(roomcast.Room(room)).Emit("said", msg)
			}
		},
	})
	srv := roomcast.NewServer(roomcast.Options{})
	srv.OnConnection(func(s *roomcast.Socket) { s.OnSet(chat) })
	url, stop := exampleServer(srv)
	defer stop()

	a, _ := client(url, "/", nil)
	b, _ := client(url, "/", nil)
	a.EmitWithAck(context.Background(), "/", "join", "lobby")
	b.EmitWithAck(context.Background(), "/", "join", "lobby")
	a.Emit("/", "say", "lobby", "hi")
	fmt.Println("a:", received(a, "/"))
	fmt.Println("b:", received(b, "/"))
	// Output:
	// a: nothing
	// b: said "hi"
}

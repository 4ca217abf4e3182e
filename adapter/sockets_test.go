package adapter

import (
	"context"
	"slices"
	"testing"
)

func TestFetchSockets(t *testing.T) {
	fx := newFixture(Hooks{})
	fx.join("s1", "s1", "a", "b")
	fx.join("s2", "s2", "b")
	fx.join("s3", "s3")
	infos, err := fx.a.FetchSockets(context.Background(), BroadcastOptions{Rooms: []Room{"b"}, Except: []Room{"s2"}})
	if err != nil || len(infos) != 1 {
		t.Fatalf("%d infos, %v", len(infos), err)
	}
	in := infos[0]
	if in.ID != "s1" || in.Local != fx.m["s1"] || in.Data["name"] != "s1" || in.Handshake.URL != "/socket.io/?id=s1" {
		t.Errorf("info %+v", in)
	}
	if got := sorted(in.Rooms); !slices.Equal(got, []Room{"a", "b", "s1"}) {
		t.Errorf("rooms %v", got)
	}
	infos, err = fx.a.FetchSockets(context.Background(), BroadcastOptions{Rooms: []Room{"nobody"}})
	if infos == nil || len(infos) != 0 || err != nil {
		t.Errorf("no targets: %#v, %v", infos, err)
	}
}

func TestAddAndDelSockets(t *testing.T) {
	hooks, log := hookLog()
	fx := newFixture(hooks)
	fx.join("s1", "a")
	fx.join("s2", "a", "b")
	fx.join("s3", "c")
	*log = nil
	ctx := context.Background()
	if err := fx.a.AddSockets(ctx, BroadcastOptions{Rooms: []Room{"a"}, Except: []Room{"b"}}, []Room{"x", "y"}); err != nil {
		t.Fatal(err)
	}
	if got := sorted(fx.a.SocketRooms("s1")); !slices.Equal(got, []Room{"a", "x", "y"}) {
		t.Errorf("s1 rooms %v", got)
	}
	if got := fx.a.SocketRooms("s2"); len(got) != 2 {
		t.Errorf("s2 rooms %v, want unchanged", got)
	}
	if want := []string{"create x", "join x s1", "create y", "join y s1"}; !slices.Equal(*log, want) {
		t.Errorf("hooks %q, want %q", *log, want)
	}
	if err := fx.a.DelSockets(ctx, BroadcastOptions{}, []Room{"a", "x"}); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string][]Room{"s1": {"y"}, "s2": {"b"}, "s3": {"c"}} {
		if got := sorted(fx.a.SocketRooms(id)); !slices.Equal(got, want) {
			t.Errorf("%s rooms %v, want %v", id, got, want)
		}
	}
	if got := sorted(fx.a.Rooms()); !slices.Equal(got, []Room{"b", "c", "y"}) {
		t.Errorf("Rooms %v", got)
	}
}

func TestDisconnectSockets(t *testing.T) {
	fx := newFixture(Hooks{})
	fx.join("s1", "s1", "a")
	fx.join("s2", "s2", "a")
	fx.join("s3", "s3", "b")
	// The fake's Disconnect calls DelAll, as a socket does: this deadlocks
	// if the adapter still holds its lock.
	if err := fx.a.DisconnectSockets(context.Background(), BroadcastOptions{Rooms: []Room{"a"}}, true); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]int{"s1": 1, "s2": 1, "s3": 0} {
		f := fx.m[id]
		if len(f.disconnected) != want || want == 1 && !f.disconnected[0] {
			t.Errorf("%s: Disconnect calls %v", id, f.disconnected)
		}
	}
	if got := fx.a.Sockets(BroadcastOptions{}); !slices.Equal(got, []string{"s3"}) {
		t.Errorf("left %v", got)
	}
	if got := sorted(fx.a.Rooms()); !slices.Equal(got, []Room{"b", "s3"}) {
		t.Errorf("Rooms %v", got)
	}
}

package adapter

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestBroadcastTargets(t *testing.T) {
	build := func() *fixture {
		fx := newFixture(Hooks{})
		fx.join("s1", "s1", "a")
		fx.join("s2", "s2", "a", "b")
		fx.join("s3", "s3", "a", "b", "c")
		fx.join("s4", "s4", "b")
		fx.join("s5", "s5", "c")
		fx.join("s6") // in no room, not even its own: only whole-namespace broadcasts reach it
		return fx
	}
	tests := []struct {
		name   string
		opts   BroadcastOptions
		wantTo []string
	}{
		{"one room", BroadcastOptions{Rooms: []Room{"a"}}, []string{"s1", "s2", "s3"}},
		{"union delivers once", BroadcastOptions{Rooms: []Room{"a", "b", "c"}}, []string{"s1", "s2", "s3", "s4", "s5"}},
		{"room listed twice", BroadcastOptions{Rooms: []Room{"b", "b"}}, []string{"s2", "s3", "s4"}},
		{"except", BroadcastOptions{Rooms: []Room{"a", "b"}, Except: []Room{"c"}}, []string{"s1", "s2", "s4"}},
		{"except several", BroadcastOptions{Rooms: []Room{"a", "b"}, Except: []Room{"c", "s1"}}, []string{"s2", "s4"}},
		{"empty rooms = all", BroadcastOptions{}, []string{"s1", "s2", "s3", "s4", "s5", "s6"}},
		{"all except", BroadcastOptions{Except: []Room{"b", "nowhere"}}, []string{"s1", "s5", "s6"}},
		{"unknown room", BroadcastOptions{Rooms: []Room{"nowhere"}}, nil},
		{"all excluded", BroadcastOptions{Rooms: []Room{"c"}, Except: []Room{"a", "c"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := build()
			if err := fx.a.Broadcast(context.Background(), event(`["x"]`), tt.opts); err != nil {
				t.Fatal(err)
			}
			if got := fx.received(t); !slices.Equal(got, tt.wantTo) {
				t.Errorf("delivered to %v, want %v", got, tt.wantTo)
			}
			if got := sorted(fx.a.Sockets(tt.opts)); !slices.Equal(got, tt.wantTo) && len(got)+len(tt.wantTo) > 0 {
				t.Errorf("Sockets = %v, want %v", got, tt.wantTo)
			}
		})
	}
}

// TestTargetsMatchSetDefinition checks both ways of resolving targets (room
// by room for a few rooms, with a set for many) against the definition.
func TestTargetsMatchSetDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	room := func() Room { return Room(fmt.Sprint("r", rng.IntN(30))) }
	for iter := range 200 {
		fx := newFixture(Hooks{})
		in := map[string][]Room{}
		for i := range 60 {
			id := fmt.Sprint("s", i)
			rs := []Room{Room(id)}
			for range rng.IntN(4) {
				rs = append(rs, room())
			}
			fx.join(id, rs...)
			in[id] = rs
		}
		var opts BroadcastOptions
		for range rng.IntN(2 * smallSet) {
			opts.Rooms = append(opts.Rooms, room())
		}
		for range rng.IntN(2 * smallSet) {
			if rng.IntN(2) == 0 {
				opts.Except = append(opts.Except, room())
			} else {
				opts.Except = append(opts.Except, Room(fmt.Sprint("s", rng.IntN(60))))
			}
		}
		var want []string
		for id, rs := range in {
			inRooms := len(opts.Rooms) == 0 || slices.ContainsFunc(rs, func(r Room) bool { return slices.Contains(opts.Rooms, r) })
			excluded := slices.ContainsFunc(rs, func(r Room) bool { return slices.Contains(opts.Except, r) })
			if inRooms && !excluded {
				want = append(want, id)
			}
		}
		slices.Sort(want)
		if got := sorted(fx.a.Sockets(opts)); !slices.Equal(got, want) {
			t.Fatalf("iteration %d, %+v: Sockets = %v, want %v", iter, opts, got, want)
		}
		fx.a.Broadcast(context.Background(), event(`["x"]`), opts)
		if got := fx.received(t); !slices.Equal(got, want) {
			t.Fatalf("iteration %d, %+v: delivered to %v, want %v", iter, opts, got, want)
		}
	}
}

// hookLog returns hooks that log every call, and the log.
func hookLog() (Hooks, *[]string) {
	var log []string
	return Hooks{
		OnCreateRoom: func(r Room) { log = append(log, "create "+string(r)) },
		OnDeleteRoom: func(r Room) { log = append(log, "delete "+string(r)) },
		OnJoinRoom:   func(r Room, id string) { log = append(log, "join "+string(r)+" "+id) },
		OnLeaveRoom:  func(r Room, id string) { log = append(log, "leave "+string(r)+" "+id) },
	}, &log
}

func TestHooksOrder(t *testing.T) {
	hooks, log := hookLog()
	fx := newFixture(hooks)
	step := func(what string, do func(), want ...string) {
		t.Helper()
		*log = nil
		do()
		if !slices.Equal(*log, want) {
			t.Errorf("%s: hooks %q, want %q", what, *log, want)
		}
	}
	step("first join", func() { fx.join("s1", "a", "b") }, "create a", "join a s1", "create b", "join b s1")
	step("duplicate join", func() { fx.join("s1", "a") })
	step("duplicate in one call", func() { fx.join("s2", "c", "c") }, "create c", "join c s2")
	step("join existing room", func() { fx.join("s2", "a") }, "join a s2")
	step("leave, room stays", func() { fx.a.Del("s1", "a") }, "leave a s1")
	step("leave a room not in", func() { fx.a.Del("s1", "a") })
	step("leave unknown room", func() { fx.a.Del("s1", "nowhere") })
	step("last leave", func() { fx.a.Del("s2", "a") }, "leave a s2", "delete a")
	step("DelAll", func() { fx.a.DelAll("s1") }, "leave b s1", "delete b")
	step("DelAll unknown", func() { fx.a.DelAll("s1") })
}

func TestRoomVanishesWhenEmpty(t *testing.T) {
	fx := newFixture(Hooks{})
	fx.join("s1", "s1", "a")
	fx.join("s2", "s2", "a")
	if got := sorted(fx.a.Rooms()); !slices.Equal(got, []Room{"a", "s1", "s2"}) {
		t.Fatalf("Rooms = %v", got)
	}
	fx.a.Del("s1", "a")
	fx.a.Del("s2", "a")
	if got := sorted(fx.a.Rooms()); !slices.Equal(got, []Room{"s1", "s2"}) {
		t.Errorf("Rooms after both left a = %v", got)
	}
	if got := fx.a.SocketRooms("s1"); !slices.Equal(got, []Room{"s1"}) {
		t.Errorf("SocketRooms(s1) = %v", got)
	}
	// A socket in no room is still in the namespace.
	fx.a.Del("s1", "s1")
	if got := fx.a.SocketRooms("s1"); got == nil || len(got) != 0 {
		t.Errorf("SocketRooms(s1) in no room = %#v, want empty non-nil", got)
	}
	if got := sorted(fx.a.Sockets(BroadcastOptions{})); !slices.Equal(got, []string{"s1", "s2"}) {
		t.Errorf("Sockets = %v", got)
	}
}

func TestDelAllForgets(t *testing.T) {
	fx := newFixture(Hooks{})
	fx.join("s1", "s1", "a", "b")
	fx.join("s2", "s2", "a")
	fx.a.DelAll("s1")
	if got := fx.a.SocketRooms("s1"); got != nil {
		t.Errorf("SocketRooms after DelAll = %v, want nil", got)
	}
	if got := sorted(fx.a.Rooms()); !slices.Equal(got, []Room{"a", "s2"}) {
		t.Errorf("Rooms = %v", got)
	}
	fx.a.Broadcast(context.Background(), event(`["x"]`), BroadcastOptions{})
	if got := fx.received(t); !slices.Equal(got, []string{"s2"}) {
		t.Errorf("delivered to %v", got)
	}
}

func TestSocketRoomsIsACopy(t *testing.T) {
	fx := newFixture(Hooks{})
	fx.join("s1", "a")
	rs := fx.a.SocketRooms("s1")
	rs[0] = "changed"
	if got := fx.a.SocketRooms("s1"); !slices.Equal(got, []Room{"a"}) {
		t.Errorf("SocketRooms = %v after changing a returned slice", got)
	}
}

// TestHookMayCallAdapter: a hook that joins and broadcasts neither
// deadlocks nor sees its own changes reported before the one it handles.
func TestHookMayCallAdapter(t *testing.T) {
	var fx *fixture
	var log []string
	fx = newFixture(Hooks{
		OnCreateRoom: func(r Room) {
			log = append(log, "create "+string(r))
			if r == "a" {
				fx.join("watcher", "watching-"+r)
				fx.a.Broadcast(context.Background(), event(`["new room"]`), BroadcastOptions{Rooms: []Room{"watching-a"}})
			}
		},
		OnJoinRoom: func(r Room, id string) { log = append(log, "join "+string(r)+" "+id) },
	})
	fx.join("s1", "a")
	want := []string{"create a", "join a s1", "create watching-a", "join watching-a watcher"}
	if !slices.Equal(log, want) {
		t.Errorf("hooks %q, want %q", log, want)
	}
	if n := fx.m["watcher"].count(); n != 1 {
		t.Errorf("watcher got %d deliveries, want 1", n)
	}
}

// TestHookPanicDoesNotStopHooks: after a hook panics, later changes are
// still reported.
func TestHookPanicDoesNotStopHooks(t *testing.T) {
	var created []Room
	fx := newFixture(Hooks{OnCreateRoom: func(r Room) {
		created = append(created, r)
		if r == "boom" {
			panic("hook failed")
		}
	}})
	func() {
		defer func() { recover() }()
		fx.join("s1", "boom")
	}()
	fx.join("s1", "after")
	if !slices.Equal(created, []Room{"boom", "after"}) {
		t.Errorf("created %v", created)
	}
}

// TestConcurrentUse joins, leaves and broadcasts from many goroutines, while
// hooks keep a mirror of the room index: the mirror must match the index at
// the end, which holds only if hooks run one at a time and in index order.
func TestConcurrentUse(t *testing.T) {
	var (
		mu     sync.Mutex // for the test's own state: the adapter must not need it
		mirror = map[Room]int{}
		errs   []string
		inHook atomic.Int32
	)
	// check runs a hook's body, noting hooks that overlap; the yield gives
	// other goroutines the chance to overlap or overtake.
	check := func(body func()) {
		if inHook.Add(1) != 1 {
			mu.Lock()
			errs = append(errs, "hooks ran concurrently")
			mu.Unlock()
		}
		runtime.Gosched()
		mu.Lock()
		body()
		mu.Unlock()
		inHook.Add(-1)
	}
	hooks := Hooks{
		OnCreateRoom: func(r Room) {
			check(func() {
				if _, ok := mirror[r]; ok {
					errs = append(errs, "create of existing "+string(r))
				}
				mirror[r] = 0
			})
		},
		OnDeleteRoom: func(r Room) {
			check(func() {
				if n, ok := mirror[r]; !ok || n != 0 {
					errs = append(errs, fmt.Sprintf("delete of %s with %d members (exists %v)", r, n, ok))
				}
				delete(mirror, r)
			})
		},
		OnJoinRoom: func(r Room, id string) {
			check(func() {
				if _, ok := mirror[r]; !ok {
					errs = append(errs, "join of missing "+string(r))
				}
				mirror[r]++
			})
		},
		OnLeaveRoom: func(r Room, id string) { check(func() { mirror[r]-- }) },
	}
	a := NewMemory(fakeNS("/"), hooks)
	const workers, rounds = 16, 300
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			mine := make([]*fakeMember, 4)
			for i := range mine {
				mine[i] = newFake(a, fmt.Sprintf("w%d-%d", w, i))
			}
			for range rounds {
				f := mine[rng.IntN(len(mine))]
				r := Room(fmt.Sprint("room", rng.IntN(5)))
				switch rng.IntN(6) {
				case 0, 1:
					a.AddAll(f, r, Room(f.id))
				case 2:
					a.Del(f.id, r)
				case 3:
					a.DelAll(f.id)
				case 4:
					a.Broadcast(context.Background(), event(`["x"]`), BroadcastOptions{Rooms: []Room{r, "room0"}, Except: []Room{"room1"}})
				case 5:
					a.Sockets(BroadcastOptions{Rooms: []Room{r}})
					a.SocketRooms(f.id)
					a.Rooms()
				}
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d hook errors, such as:\n%s", len(errs), strings.Join(errs[:min(len(errs), 5)], "\n"))
	}
	// Every goroutine has returned, so every change has been reported.
	got := map[Room]int{}
	for _, r := range a.Rooms() {
		got[r] = len(a.Sockets(BroadcastOptions{Rooms: []Room{r}}))
	}
	if fmt.Sprint(got) != fmt.Sprint(mirror) {
		t.Errorf("index %v, hooks mirror %v", got, mirror)
	}
}

func TestMemoryFactory(t *testing.T) {
	var created []Room
	f := MemoryFactory(Hooks{OnCreateRoom: func(r Room) { created = append(created, r) }})
	a := f(fakeNS("/chat"))
	a.AddAll(newFake(nil, "s1"), "a")
	if !slices.Equal(created, []Room{"a"}) {
		t.Errorf("created %v", created)
	}
}

func TestClose(t *testing.T) {
	fx := newFixture(Hooks{})
	fx.join("s1", "a")
	ctx := context.Background()
	if n, err := fx.a.ServerCount(ctx); n != 1 || err != nil {
		t.Errorf("ServerCount = %d, %v", n, err)
	}
	if r, err := fx.a.ServerSideEmit(ctx, []byte(`["hi"]`), nil, true); r == nil || len(r) != 0 || err != nil {
		t.Errorf("ServerSideEmit = %#v, %v; want empty, nil", r, err)
	}
	for range 2 {
		if err := fx.a.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := fx.a.Broadcast(ctx, event(`["x"]`), BroadcastOptions{}); err != ErrClosed {
		t.Errorf("Broadcast after Close: %v", err)
	}
	if _, err := fx.a.BroadcastWithAck(ctx, event(`["x"]`), BroadcastOptions{}); err != ErrClosed {
		t.Errorf("BroadcastWithAck after Close: %v", err)
	}
	if _, err := fx.a.FetchSockets(ctx, BroadcastOptions{}); err != ErrClosed {
		t.Errorf("FetchSockets after Close: %v", err)
	}
	if fx.m["s1"].count() != 0 {
		t.Error("delivered after Close")
	}
	fx.a.DelAll("s1") // sockets still leave after Close
	if len(fx.a.Rooms()) != 0 {
		t.Errorf("Rooms = %v", fx.a.Rooms())
	}
}

// TestAddAllNewMemberForID: a second Member under a known id replaces the
// first in every room it is in, not only in those of the new call.
func TestAddAllNewMemberForID(t *testing.T) {
	a := NewMemory(fakeNS("/"), Hooks{})
	old, cur := newFake(a, "s1"), newFake(a, "s1")
	a.AddAll(old, "a")
	a.AddAll(cur, "b")
	a.Broadcast(context.Background(), event(`["x"]`), BroadcastOptions{Rooms: []Room{"a"}})
	if old.count() != 0 || cur.count() != 1 {
		t.Errorf("old got %d, new got %d deliveries; want 0, 1", old.count(), cur.count())
	}
}

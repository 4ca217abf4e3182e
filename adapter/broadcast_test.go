package adapter

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomcast/roomcast/parser"
)

func TestBroadcastEncodesOnce(t *testing.T) {
	fx := newFixture(Hooks{})
	for i := range 5 {
		fx.join(fmt.Sprint("s", i), "a")
	}
	p := event(`["hello",1]`)
	opts := BroadcastOptions{Rooms: []Room{"a"}, Flags: Flags{Volatile: true}}
	if err := fx.a.Broadcast(context.Background(), p, opts); err != nil {
		t.Fatal(err)
	}
	var first *byte
	for id, f := range fx.m {
		d := f.last()
		if len(d.frames) != 1 || d.frames[0].Binary || string(d.frames[0].Data) != `42["hello",1]` {
			t.Fatalf("%s: frames %+v", id, d.frames)
		}
		if !d.volatile || d.onAck != nil || d.p != p {
			t.Errorf("%s: volatile %v, withAck %v, same packet %v", id, d.volatile, d.onAck != nil, d.p == p)
		}
		if first == nil {
			first = &d.frames[0].Data[0]
		} else if &d.frames[0].Data[0] != first {
			t.Errorf("%s: frame bytes are a different copy: encoded more than once", id)
		}
	}
}

func TestBroadcastBinaryFrames(t *testing.T) {
	fx := newFixture(Hooks{})
	f := fx.join("s1", "a")
	att0, att1 := []byte{1, 2, 3}, []byte{}
	p := &parser.Packet{
		Type:        parser.Event,
		Namespace:   "/",
		Data:        []byte(`["file",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`),
		Attachments: [][]byte{att0, att1},
	}
	fx.a.Broadcast(context.Background(), p, BroadcastOptions{})
	fr := f.last().frames
	if len(fr) != 3 {
		t.Fatalf("%d frames, want 3", len(fr))
	}
	if fr[0].Binary || !strings.HasPrefix(string(fr[0].Data), `452-["file"`) {
		t.Errorf("text frame %q (binary %v)", fr[0].Data, fr[0].Binary)
	}
	for i, att := range [][]byte{att0, att1} {
		if !fr[i+1].Binary || !slices.Equal(fr[i+1].Data, att) {
			t.Errorf("frame %d = %v (binary %v), want binary %v", i+1, fr[i+1].Data, fr[i+1].Binary, att)
		}
	}
}

func TestBroadcastUsesAdapterNamespace(t *testing.T) {
	a := NewMemory(fakeNS("/admin"), Hooks{})
	f := newFake(a, "s1")
	a.AddAll(f)
	p := event(`["x"]`)
	a.Broadcast(context.Background(), p, BroadcastOptions{})
	d := f.last()
	if got := string(d.frames[0].Data); got != `42/admin,["x"]` {
		t.Errorf("frame %q", got)
	}
	if p.Namespace != "/" || d.p.Namespace != "/admin" {
		t.Errorf("caller's packet namespace %q, delivered %q", p.Namespace, d.p.Namespace)
	}
}

func TestBroadcastAllocatesNothingPerTarget(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	fx := newFixture(Hooks{})
	for i := range 1000 {
		fx.a.AddAll(&countMember{id: fmt.Sprint("s", i)}, "a", "b")
	}
	p := event(`["x"]`)
	for _, opts := range []BroadcastOptions{
		{Rooms: []Room{"a"}},
		{Rooms: []Room{"a", "b"}, Except: []Room{"s1"}},
		{},
	} {
		allocs := testing.AllocsPerRun(50, func() { fx.a.Broadcast(context.Background(), p, opts) })
		if allocs > 3 { // the text, the frame slice, maybe the pool's scratch
			t.Errorf("%+v: %v allocations per broadcast to 1000 sockets", opts, allocs)
		}
	}
}

// ackPacket is an event awaiting acknowledgements under id.
func ackPacket(id uint64) *parser.Packet {
	p := event(`["ping"]`)
	p.ID, p.HasID = id, true
	return p
}

func TestBroadcastWithAckCollectsAll(t *testing.T) {
	fx := newFixture(Hooks{})
	for i := range 4 {
		f := fx.join(fmt.Sprint("s", i), "a")
		f.reply = &Reply{Data: []byte(fmt.Sprintf(`[%d]`, i))}
	}
	replies, err := fx.a.BroadcastWithAck(context.Background(), ackPacket(7), BroadcastOptions{Rooms: []Room{"a"}})
	if err != nil || len(replies) != 4 {
		t.Fatalf("%d replies, %v", len(replies), err)
	}
	var got []string
	for _, r := range replies {
		got = append(got, string(r.Data))
	}
	if slices.Sort(got); !slices.Equal(got, []string{"[0]", "[1]", "[2]", "[3]"}) {
		t.Errorf("replies %v", got)
	}
	for id, f := range fx.m {
		if d := f.last(); d.onAck == nil || string(d.frames[0].Data) != `427["ping"]` {
			t.Errorf("%s: with ack %v, frame %q", id, d.onAck != nil, d.frames[0].Data)
		}
		if len(f.forgot) != 0 {
			t.Errorf("%s: ForgetAck called after it replied", id)
		}
	}
}

func TestBroadcastWithAckAsyncReplies(t *testing.T) {
	fx := newFixture(Hooks{})
	for i := range 10 {
		fx.join(fmt.Sprint("s", i), "a")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, f := range fx.m {
			for f.count() == 0 {
				time.Sleep(time.Millisecond)
			}
			f.ack(3, Reply{Data: []byte(`["pong"]`)})
			f.ack(3, Reply{Data: []byte(`["twice"]`)}) // dropped by the socket's map
		}
	}()
	replies, err := fx.a.BroadcastWithAck(context.Background(), ackPacket(3), BroadcastOptions{})
	<-done
	if err != nil || len(replies) != 10 {
		t.Fatalf("%d replies, %v", len(replies), err)
	}
}

func TestBroadcastWithAckTimeout(t *testing.T) {
	fx := newFixture(Hooks{})
	for i := range 3 {
		fx.join(fmt.Sprint("fast", i), "a").reply = &Reply{Data: []byte(`["ok"]`)}
	}
	slow := []*fakeMember{fx.join("slow0", "a"), fx.join("slow1", "a")}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	replies, err := fx.a.BroadcastWithAck(ctx, ackPacket(42), BroadcastOptions{Rooms: []Room{"a"}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("returned after %v", time.Since(start))
	}
	if len(replies) != 3 {
		t.Fatalf("%d replies, want the 3 that came", len(replies))
	}
	for id, f := range fx.m {
		wantForgot := strings.HasPrefix(id, "slow")
		if got := slices.Equal(f.forgot, []uint64{42}); got != wantForgot {
			t.Errorf("%s: ForgetAck calls %v, want one for 42: %v", id, f.forgot, wantForgot)
		}
	}

	// A socket that did not honour ForgetAck answers late: the callback
	// must return at once and change nothing the caller holds.
	lateDone := make(chan struct{})
	go func() {
		defer close(lateDone)
		for _, f := range slow {
			f.last().onAck(Reply{Data: []byte(`["late"]`)})
		}
	}()
	select {
	case <-lateDone:
	case <-time.After(2 * time.Second):
		t.Fatal("late reply blocked")
	}
	if len(replies) != 3 || slices.ContainsFunc(replies[:cap(replies)], func(r Reply) bool { return string(r.Data) == `["late"]` }) {
		t.Errorf("replies changed after return: %q", replies[:cap(replies)])
	}
}

func TestBroadcastWithAckNoTargets(t *testing.T) {
	fx := newFixture(Hooks{})
	fx.join("s1", "a")
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	replies, err := fx.a.BroadcastWithAck(ctx, ackPacket(1), BroadcastOptions{Rooms: []Room{"nobody"}})
	if replies == nil || len(replies) != 0 || err != nil {
		t.Errorf("= %#v, %v; want empty non-nil, nil", replies, err)
	}
}

func TestBroadcastWithAckDoneContext(t *testing.T) {
	fx := newFixture(Hooks{})
	f := fx.join("s1", "a")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := fx.a.BroadcastWithAck(ctx, ackPacket(1), BroadcastOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	if f.count() != 0 {
		t.Error("delivered with a done context")
	}
}

package adapter

import (
	"encoding/json"
	"slices"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/roomcast/roomcast/engineio"
	"github.com/roomcast/roomcast/parser"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// delivery is one Deliver call seen by a fakeMember.
type delivery struct {
	p        *parser.Packet
	frames   []engineio.Frame
	volatile bool
	onAck    func(Reply)
}

// fakeMember records what the adapter does to it. With reply set, it
// answers every acknowledged delivery at once with that reply.
type fakeMember struct {
	id    string
	a     *Memory // Disconnect leaves through it, as a real socket does
	reply *Reply

	mu           sync.Mutex
	deliveries   []delivery
	acks         map[uint64]func(Reply)
	forgot       []uint64
	disconnected []bool
}

func newFake(a *Memory, id string) *fakeMember {
	return &fakeMember{id: id, a: a, acks: map[uint64]func(Reply){}}
}

func (f *fakeMember) ID() string { return f.id }

func (f *fakeMember) Deliver(p *parser.Packet, frames []engineio.Frame, flags Flags, onAck func(Reply)) {
	f.mu.Lock()
	f.deliveries = append(f.deliveries, delivery{p, frames, flags.Volatile, onAck})
	if onAck != nil && f.reply == nil {
		f.acks[p.ID] = onAck
	}
	f.mu.Unlock()
	if onAck != nil && f.reply != nil {
		onAck(*f.reply)
	}
}

func (f *fakeMember) ForgetAck(id uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.acks, id)
	f.forgot = append(f.forgot, id)
}

func (f *fakeMember) Describe() (*Handshake, map[string]any) {
	return &Handshake{URL: "/socket.io/?id=" + f.id}, map[string]any{"name": f.id}
}

func (f *fakeMember) Disconnect(close bool) {
	f.mu.Lock()
	f.disconnected = append(f.disconnected, close)
	f.mu.Unlock()
	f.a.DelAll(f.id)
}

func (f *fakeMember) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.deliveries)
}

func (f *fakeMember) last() delivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.deliveries[len(f.deliveries)-1]
}

// ack answers the acknowledgement registered under id, as a client would.
func (f *fakeMember) ack(id uint64, r Reply) {
	f.mu.Lock()
	cb := f.acks[id]
	delete(f.acks, id)
	f.mu.Unlock()
	if cb != nil {
		cb(r)
	}
}

// fakeNS is a Namespace with a name and nothing else.
type fakeNS string

func (n fakeNS) Name() string                                            { return string(n) }
func (n fakeNS) OnServerSideEmit(json.RawMessage, [][]byte, func(Reply)) {}

// fixture is an adapter with members named by id.
type fixture struct {
	a *Memory
	m map[string]*fakeMember
}

func newFixture(hooks Hooks) *fixture {
	return &fixture{a: NewMemory(fakeNS("/"), hooks), m: map[string]*fakeMember{}}
}

// join puts the member id (made on first use) in rooms.
func (fx *fixture) join(id string, rooms ...Room) *fakeMember {
	f := fx.m[id]
	if f == nil {
		f = newFake(fx.a, id)
		fx.m[id] = f
	}
	fx.a.AddAll(f, rooms...)
	return f
}

// received returns, sorted, the ids of the members delivered to n times.
func (fx *fixture) received(t *testing.T) []string {
	t.Helper()
	var ids []string
	for id, f := range fx.m {
		switch n := f.count(); n {
		case 0:
		case 1:
			ids = append(ids, id)
		default:
			t.Errorf("%s got %d deliveries, want at most 1", id, n)
		}
	}
	slices.Sort(ids)
	return ids
}

func event(data string) *parser.Packet {
	return &parser.Packet{Type: parser.Event, Namespace: "/", Data: json.RawMessage(data)}
}

func sorted[T ~string](s []T) []T {
	slices.Sort(s)
	return s
}

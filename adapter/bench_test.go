package adapter

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/roomcast/roomcast/engineio"
	"github.com/roomcast/roomcast/parser"
)

// countMember is a Member whose Deliver does the least a socket does: look
// at the frames. The count is atomic for the parallel benchmarks.
type countMember struct {
	id    string
	bytes atomic.Int64
}

func (c *countMember) ID() string { return c.id }
func (c *countMember) Deliver(p *parser.Packet, frames []engineio.Frame, flags Flags, onAck func(Reply)) {
	c.bytes.Add(int64(len(frames[0].Data)))
}
func (c *countMember) ForgetAck(uint64)                       {}
func (c *countMember) Describe() (*Handshake, map[string]any) { return nil, nil }
func (c *countMember) Disconnect(bool)                        {}

func BenchmarkBroadcast10k(b *testing.B) {
	a := NewMemory(fakeNS("/"), Hooks{})
	for i := range 10_000 {
		a.AddAll(&countMember{id: strconv.Itoa(i)}, "lobby")
	}
	p := event(`["chat message","hello everyone"]`)
	opts := BroadcastOptions{Rooms: []Room{"lobby"}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		a.Broadcast(ctx, p, opts)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10_000, "ns/target")
}

// BenchmarkBroadcastUnion: 3 rooms of 4,000 sockets overlapping in pairs
// (10,000 distinct), minus a room of 100.
func BenchmarkBroadcastUnion(b *testing.B) {
	a := NewMemory(fakeNS("/"), Hooks{})
	for i := range 10_000 {
		var rooms []Room
		for r := range 3 {
			if lo := r * 3000; i >= lo && i < lo+4000 {
				rooms = append(rooms, Room(fmt.Sprint("room", r)))
			}
		}
		if i%100 == 0 {
			rooms = append(rooms, "muted")
		}
		a.AddAll(&countMember{id: strconv.Itoa(i)}, rooms...)
	}
	p := event(`["chat message","hello everyone"]`)
	opts := BroadcastOptions{Rooms: []Room{"room0", "room1", "room2"}, Except: []Room{"muted"}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		a.Broadcast(ctx, p, opts)
	}
}

// BenchmarkJoinLeaveParallel: distinct sockets join and leave a few shared
// rooms from every P; one op is AddAll of 3 rooms then DelAll.
func BenchmarkJoinLeaveParallel(b *testing.B) {
	a := NewMemory(fakeNS("/"), Hooks{})
	for i := range 1000 { // the shared rooms stay non-empty
		a.AddAll(&countMember{id: "resident" + strconv.Itoa(i)}, "r0", "r1", "r2", "r3")
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		base := next.Add(1) * 1_000_000
		members := make([]*countMember, 64)
		for i := range members {
			members[i] = &countMember{id: strconv.FormatInt(base+int64(i), 10)}
		}
		rooms := []Room{"r0", "r1", "r2", "r3"}
		i := 0
		for pb.Next() {
			m := members[i%len(members)]
			a.AddAll(m, Room(m.id), rooms[i%4], rooms[(i+1)%4])
			a.DelAll(m.id)
			i++
		}
	})
}

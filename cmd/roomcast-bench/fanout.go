package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/roomcast/roomcast/parser"
)

// fanout is N members spread over R rooms and one publisher that sends
// "broadcast" (room, payload). Closed loop (-window W): each room has at most
// W broadcasts in flight, one being done when every member of the room has
// received it. Open loop (-rate): broadcasts at a fixed rate, round robin
// over the rooms, stamped with the time they were due, so that a publisher
// that falls behind shows up in the latencies.
type fanout struct {
	r       *runner
	rooms   []*fanoutRoom
	members []*client
	pub     *client
	probes  []*client // per server, what asks it for its room counts: pub for the first
	closed  bool      // closed loop
	window  int64
	pad     []byte
	hist    histogram

	ready chan int // closed loop: rooms that may send one more broadcast

	sent       atomic.Int64 // broadcasts
	expected   atomic.Int64 // deliveries that should arrive
	dups       atomic.Int64
	outOfOrder atomic.Int64

	acks chan ackReply // the publisher's acks (count queries)

	// publisher-goroutine scratch
	items []pubItem
	bufs  [maxBatch][]byte
	pkts  [][]byte
	data  []byte
}

type fanoutRoom struct {
	name    string
	members int64          // connected members
	local   []int64        // connected members per server
	seq     int64          // the next broadcast's seq (publisher only)
	slots   []atomic.Int64 // closed loop: members yet to receive seq s, at s%W
}

type pubItem struct {
	room int
	t    time.Duration // the payload's time
}

type ackReply struct {
	server int // of the probe that received it
	id     uint64
	args   []byte
}

var msgPrefix = []byte(`2["msg",`)

const maxBatch = 64

func (r *runner) fanoutScenario(ctx context.Context) error {
	cfg := r.cfg
	f := &fanout{
		r: r, closed: cfg.Rate == 0, window: int64(cfg.Window), pad: makePad(cfg.Size),
		acks: make(chan ackReply, 64),
	}
	r.res.Rooms, r.res.Rate = cfg.Rooms, cfg.Rate
	if f.closed {
		r.res.Window = cfg.Window
	}
	f.rooms = make([]*fanoutRoom, cfg.Rooms)
	for k := range f.rooms {
		f.rooms[k] = &fanoutRoom{name: "r" + strconv.Itoa(k), local: make([]int64, len(r.dial.hosts))}
		if f.closed {
			f.rooms[k].slots = make([]atomic.Int64, cfg.Window)
		}
	}
	f.ready = make(chan int, cfg.Rooms*cfg.Window)

	// Members first, then the publisher.
	var connHist histogram
	var prev procSample
	prevAt := time.Now()
	prog := startProgress(cfg.Log, cfg.Progress, r.start, func() string {
		return fmt.Sprintf("fanout: connecting %d/%d failed %d", r.opened.Load(), cfg.Clients, r.failed.Load())
	})
	f.members = r.connectAll(ctx, cfg.Clients, func(i int) clientSpec {
		k := i % cfg.Rooms
		return clientSpec{auth: []byte(`{"room":"` + f.rooms[k].name + `"}`), room: k, onMsg: f.onMember}
	}, &connHist)
	prog.close()
	defer r.closeAll(f.members)
	for _, c := range f.members {
		if c != nil {
			f.rooms[c.room].members++
			f.rooms[c.room].local[r.dial.server(c.id)]++
		}
	}
	pub, err := r.dial.open(ctx, -1, false, nil)
	if err != nil {
		return fmt.Errorf("publisher: %w", err)
	}
	f.pub = pub
	pub.onMsg = f.onPublisher
	go pub.readLoop()
	defer pub.shut()
	f.probes = []*client{pub}
	for j := 1; j < len(r.dial.hosts); j++ {
		probe, err := r.dial.open(ctx, -(j + 1), false, nil)
		if err != nil {
			return fmt.Errorf("probe of server %d: %w", j, err)
		}
		probe.onMsg = f.onPublisher
		go probe.readLoop()
		defer probe.shut()
		f.probes = append(f.probes, probe)
	}
	if err := f.waitMembers(ctx); err != nil {
		return err
	}

	// The measured phase.
	before := r.serverSample()
	begin := time.Since(r.start)
	var lastSent, lastRecv int64
	prog = startProgress(cfg.Log, cfg.Progress, r.start, func() string {
		s, recv := f.sent.Load(), f.received()
		line := fmt.Sprintf("fanout: broadcasts %s (+%s) deliveries %s (+%s) in flight %d p99 %.2fms",
			si(float64(s)), si(float64(s-lastSent)), si(float64(recv)), si(float64(recv-lastRecv)),
			f.expected.Load()-(recv-f.dups.Load()), ms(f.hist.snapshot().percentile(0.99)))
		lastSent, lastRecv = s, recv
		return line + r.serverLine(&prev, &prevAt)
	})
	if f.closed {
		f.publishClosed(ctx, begin+cfg.Duration)
	} else {
		f.publishOpen(ctx, begin, begin+cfg.Duration)
	}
	pubEnd := time.Since(r.start)
	f.drain(ctx)
	prog.close()
	end := time.Since(r.start)
	r.serverCPU(before, end-begin)

	res := r.res
	res.PhaseSeconds = round((end - begin).Seconds())
	res.Broadcasts = f.sent.Load()
	res.BroadcastsPerS = perSecond(res.Broadcasts, pubEnd-begin)
	res.Expected = f.expected.Load()
	res.Received = f.received()
	res.Duplicates = f.dups.Load()
	res.OutOfOrder = f.outOfOrder.Load()
	res.Lost = ptr(max(0, res.Expected-(res.Received-res.Duplicates)))
	last := time.Duration(0)
	for _, c := range f.members {
		if c != nil {
			last = max(last, time.Duration(c.lastAt.Load()))
		}
	}
	res.DeliveriesPerS = perSecond(res.Received, last-begin)
	res.Latency = f.hist.snapshot().summary()
	res.Dropped = r.collectDropped(append(f.members, pub))
	return ctx.Err()
}

// onMember runs on a member's reader goroutine for each packet it receives.
func (f *fanout) onMember(c *client, pkt []byte) {
	if !bytes.HasPrefix(pkt, msgPrefix) {
		return
	}
	t, seq, ok := parseStamp(pkt[len(msgPrefix):])
	if !ok {
		return
	}
	now := time.Since(f.r.start)
	f.hist.record(c.id, now-time.Duration(t))
	c.recv.Add(1)
	c.lastAt.Store(int64(now))
	if seq != c.last+1 {
		f.outOfOrder.Add(1)
		if seq <= c.last {
			f.dups.Add(1)
			return
		}
	}
	c.last = seq
	if f.closed {
		// Members receive a room's broadcasts in order, so broadcast s is done
		// before s+1: slot s%W is free again once it reaches zero.
		if f.rooms[c.room].slots[seq%f.window].Add(-1) == 0 {
			f.ready <- c.room
		}
	}
}

// onPublisher collects the acks of the publisher's queries.
func (f *fanout) onPublisher(c *client, pkt []byte) {
	if len(pkt) == 0 || pkt[0] != '3' {
		return
	}
	p, err := parser.Decode(pkt)
	if err != nil || !p.HasID {
		return
	}
	select {
	case f.acks <- ackReply{server: f.r.dial.server(c.id), id: p.ID, args: bytes.Clone(p.Data)}: // pkt is reused after this returns
	default:
	}
}

// waitMembers asks the server how many sockets each room has until the
// answers match the members that connected: a member may get its CONNECT
// before the server has run the handler that joins its room.
func (f *fanout) waitMembers(ctx context.Context) error {
	for j, probe := range f.probes {
		if err := f.waitServer(ctx, j, probe); err != nil {
			if len(f.probes) > 1 {
				err = fmt.Errorf("server %d: %w", j, err)
			}
			return err
		}
	}
	return nil
}

// waitServer waits until server j, asked through probe, counts in each room
// the members connected to it (a server's rooms are its own sockets').
func (f *fanout) waitServer(ctx context.Context, j int, probe *client) error {
	deadline := time.Now().Add(10 * time.Second)
	const answerWait = 5 * time.Second
	var id uint64
	for attempt := 0; ; attempt++ {
		first := id
		pkts := make([][]byte, 0, len(f.rooms))
		for _, room := range f.rooms {
			data := appendQuotedName([]byte(`["count",`), room.name)
			pkts = append(pkts, appendEvent(nil, append(data, ']'), int64(id), true))
			id++
		}
		if err := probe.tr.writeText(pkts...); err != nil {
			return fmt.Errorf("publisher: %w", err)
		}
		mismatch := ""
		for got := 0; got < len(f.rooms); {
			select {
			case a := <-f.acks:
				if a.server != j || a.id < first || a.id >= id {
					continue // a late answer to an earlier attempt
				}
				got++
				room := f.rooms[a.id-first]
				if want := "[" + strconv.FormatInt(room.local[j], 10) + "]"; string(a.args) != want {
					mismatch = fmt.Sprintf("room %s: server counts %s, %d members connected", room.name, a.args, room.local[j])
				}
			case <-time.After(answerWait):
				return errors.New("no answer to count from the server")
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if mismatch == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New(mismatch)
		}
		sleep(ctx, 50*time.Millisecond)
	}
}

// publishClosed keeps W broadcasts in flight per room until end.
func (f *fanout) publishClosed(ctx context.Context, end time.Duration) {
	for k := range f.rooms {
		for range f.window {
			f.ready <- k
		}
	}
	timer := time.NewTimer(end - time.Since(f.r.start))
	defer timer.Stop()
	for {
		f.items = f.items[:0]
		select {
		case k := <-f.ready:
			f.items = append(f.items, pubItem{room: k})
		case <-timer.C:
			return
		case <-ctx.Done():
			return
		}
	more:
		for len(f.items) < maxBatch {
			select {
			case k := <-f.ready:
				f.items = append(f.items, pubItem{room: k})
			default:
				break more
			}
		}
		now := time.Since(f.r.start)
		for i := range f.items {
			f.items[i].t = now
		}
		if !f.send(f.items) {
			return
		}
	}
}

// publishOpen sends rate broadcasts per second from begin until end.
func (f *fanout) publishOpen(ctx context.Context, begin, end time.Duration) {
	interval := time.Duration(float64(time.Second) / f.r.cfg.Rate)
	var i int64
	for ctx.Err() == nil {
		now := time.Since(f.r.start)
		if now >= end {
			return
		}
		due := int64((now-begin)/interval) + 1
		f.items = f.items[:0]
		for i < due && len(f.items) < maxBatch {
			f.items = append(f.items, pubItem{room: int(i % int64(len(f.rooms))), t: begin + time.Duration(i)*interval})
			i++
		}
		if !f.send(f.items) {
			return
		}
		if i >= due {
			time.Sleep(begin + time.Duration(i)*interval - time.Since(f.r.start))
		}
	}
}

// send writes one broadcast per item in one write; false once the publisher
// must stop (-count reached, or the connection failed).
func (f *fanout) send(items []pubItem) bool {
	limit := f.r.cfg.Count
	more := true
	f.pkts = f.pkts[:0]
	for j, it := range items {
		if limit > 0 && f.sent.Load() >= limit {
			more = false
			break
		}
		room := f.rooms[it.room]
		if room.members == 0 {
			continue // nobody would complete it
		}
		seq := room.seq
		room.seq++
		if f.closed {
			room.slots[seq%f.window].Store(room.members)
		}
		f.data = append(f.data[:0], `["broadcast",`...)
		f.data = appendQuotedName(f.data, room.name)
		f.data = append(f.data, ',')
		f.data = appendPayload(f.data, it.t, seq, f.pad)
		f.data = append(f.data, ']')
		f.bufs[j] = appendEvent(f.bufs[j][:0], f.data, 0, false)
		f.pkts = append(f.pkts, f.bufs[j])
		f.expected.Add(room.members)
		f.sent.Add(1)
	}
	if len(f.pkts) > 0 {
		if err := f.pub.tr.writeText(f.pkts...); err != nil {
			f.r.errs.add(fmt.Errorf("publisher: %w", err))
			return false
		}
	}
	return more && (limit == 0 || f.sent.Load() < limit)
}

// received is the number of messages the members received so far.
func (f *fanout) received() int64 {
	var n int64
	for _, c := range f.members {
		if c != nil {
			n += c.recv.Load()
		}
	}
	return n
}

// drain waits, at most -drain, for the deliveries still in flight.
func (f *fanout) drain(ctx context.Context) {
	deadline := time.Now().Add(f.r.cfg.Drain)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		if f.received()-f.dups.Load() >= f.expected.Load() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

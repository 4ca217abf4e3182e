package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// echo is N clients in closed loop: each keeps -window "echo" events with an
// ack in flight and sends the next one from its reader goroutine as soon as
// an ack comes back.
type echo struct {
	r       *runner
	clients []*client
	pad     []byte
	hist    histogram
	running atomic.Bool
	budget  atomic.Int64  // echoes left under -count
	spent   chan struct{} // closed when -count echoes have been sent
}

func (r *runner) echoScenario(ctx context.Context) error {
	cfg := r.cfg
	e := &echo{r: r, pad: makePad(cfg.Size), spent: make(chan struct{})}
	e.budget.Store(cfg.Count)
	r.res.Window = cfg.Window

	var connHist histogram
	var prev procSample
	prevAt := time.Now()
	prog := startProgress(cfg.Log, cfg.Progress, r.start, func() string {
		return fmt.Sprintf("echo: connecting %d/%d failed %d", r.opened.Load(), cfg.Clients, r.failed.Load())
	})
	e.clients = r.connectAll(ctx, cfg.Clients, func(int) clientSpec { return clientSpec{onMsg: e.onAck} }, &connHist)
	prog.close()
	defer r.closeAll(e.clients)

	before := r.serverSample()
	begin := time.Since(r.start)
	var lastAcks int64
	prog = startProgress(cfg.Log, cfg.Progress, r.start, func() string {
		acks := e.acks()
		line := fmt.Sprintf("echo: acks %s (+%s) p50 %.2fms p99 %.2fms", si(float64(acks)),
			si(float64(acks-lastAcks)), ms(e.hist.snapshot().percentile(0.5)), ms(e.hist.snapshot().percentile(0.99)))
		lastAcks = acks
		return line + r.serverLine(&prev, &prevAt)
	})
	e.running.Store(true)
	var sc scratch
	for _, c := range e.clients {
		for range cfg.Window {
			if c != nil {
				e.send(c, &sc)
			}
		}
	}
	timer := time.NewTimer(begin + cfg.Duration - time.Since(r.start))
	select {
	case <-timer.C:
	case <-e.spent:
	case <-ctx.Done():
	}
	timer.Stop()
	e.running.Store(false)
	phase := time.Since(r.start) - begin
	acksInPhase := e.acks()
	e.drain(ctx)
	prog.close()
	end := time.Since(r.start)
	r.serverCPU(before, end-begin)

	res := r.res
	res.PhaseSeconds = round(phase.Seconds())
	for _, c := range e.clients {
		if c != nil {
			res.Echoes += c.seq.Load()
		}
	}
	res.Acks = e.acks()
	res.Lost = ptr(res.Echoes - res.Acks)
	res.AcksPerS = perSecond(acksInPhase, phase)
	res.Latency = e.hist.snapshot().summary()
	res.Dropped = r.collectDropped(e.clients)
	return ctx.Err()
}

// send writes one echo of c, built in sc.
func (e *echo) send(c *client, sc *scratch) {
	if e.r.cfg.Count > 0 {
		left := e.budget.Add(-1)
		if left == 0 {
			defer close(e.spent)
		}
		if left < 0 {
			return
		}
	}
	seq := c.seq.Add(1) - 1
	sc.data = append(sc.data[:0], `["echo",`...)
	sc.data = appendPayload(sc.data, time.Since(e.r.start), seq, e.pad)
	sc.data = append(sc.data, ']')
	sc.pkt = appendEvent(sc.pkt[:0], sc.data, seq, true)
	if err := c.tr.writeText(sc.pkt); err != nil {
		e.r.errs.add(fmt.Errorf("echo: %w", err))
	}
}

// onAck runs on a client's reader goroutine for each packet: an ack records
// its latency and sends the next echo.
func (e *echo) onAck(c *client, pkt []byte) {
	if len(pkt) == 0 || pkt[0] != '3' {
		return
	}
	t, _, ok := parseStamp(pkt)
	if !ok {
		return
	}
	now := time.Since(e.r.start)
	e.hist.record(c.id, now-time.Duration(t))
	c.recv.Add(1)
	c.lastAt.Store(int64(now))
	if e.running.Load() {
		e.send(c, &c.scratch)
	}
}

func (e *echo) acks() int64 {
	var n int64
	for _, c := range e.clients {
		if c != nil {
			n += c.recv.Load()
		}
	}
	return n
}

// drain waits, at most -drain, for the acks still in flight.
func (e *echo) drain(ctx context.Context) {
	deadline := time.Now().Add(e.r.cfg.Drain)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		var sent int64
		for _, c := range e.clients {
			if c != nil {
				sent += c.seq.Load()
			}
		}
		if e.acks() >= sent {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

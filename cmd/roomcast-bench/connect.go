package main

import (
	"context"
	"fmt"
	"time"
)

// connectScenario opens N connections at concurrency C and holds them: the
// rate of opening, and what each idle connection costs the server in memory.
// With -hold it keeps them open (answering the server's pings) and counts
// those the server drops.
func (r *runner) connectScenario(ctx context.Context) error {
	cfg := r.cfg
	before := r.serverSample()
	r.res.RSSBeforeKB = before.rssKB

	var hist histogram
	var prev procSample
	prevAt := time.Now()
	prog := startProgress(cfg.Log, cfg.Progress, r.start, func() string {
		return fmt.Sprintf("connect: open %d/%d failed %d%s",
			r.opened.Load(), cfg.Clients, r.failed.Load(), r.serverLine(&prev, &prevAt))
	})
	begin := time.Now()
	clients := r.connectAll(ctx, cfg.Clients, func(int) clientSpec { return clientSpec{} }, &hist)
	r.serverCPU(before, time.Since(begin))
	prog.close()
	defer r.closeAll(clients)

	if r.mon != nil && r.res.Connected > 0 {
		sleep(ctx, cfg.Settle)
		after := r.mon.now()
		r.res.RSSAfterKB = after.rssKB
		r.res.MemPerConnBytes = round(float64(after.rssKB-before.rssKB) * 1024 / float64(r.res.Connected))
	}

	if cfg.Hold > 0 {
		holdStart := time.Now()
		prog := startProgress(cfg.Log, cfg.Progress, r.start, func() string {
			return fmt.Sprintf("hold: %s/%s open %d dropped %d pings %d%s",
				time.Since(holdStart).Truncate(time.Second), cfg.Hold,
				r.res.Connected-countDropped(clients), countDropped(clients), pings.Load(),
				r.serverLine(&prev, &prevAt))
		})
		sleep(ctx, cfg.Hold)
		prog.close()
		r.res.PhaseSeconds = round(time.Since(holdStart).Seconds())
	}
	r.res.Dropped = r.collectDropped(clients)
	return ctx.Err()
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

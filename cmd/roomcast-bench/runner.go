package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// runner holds what every scenario shares: the dialer, the clock payloads are
// stamped with, the server monitor and the result being filled.
type runner struct {
	cfg    Config
	dial   *dialer
	start  time.Time // payload times are nanoseconds since then
	mon    *procMonitor
	errs   errorLog
	res    *Result
	opened atomic.Int64 // connections opened so far, for progress
	failed atomic.Int64
}

// run executes one scenario and returns its result.
func run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()

	if err := raiseNoFile(cfg.fileLimit()); err != nil {
		fmt.Fprintf(os.Stderr, "roomcast-bench: %v\n", err)
	}
	sources, err := cfg.sourceIPs()
	if err != nil {
		return nil, err
	}
	hosts, _ := cfg.hosts()
	bufSize := 4096
	if cfg.Scenario == "connect" {
		bufSize = 512 // idle connections only see pings
	} else if need := cfg.Size + 512; need > bufSize {
		bufSize = need
	}
	r := &runner{
		cfg:   cfg,
		dial:  newDialer(hosts, cfg.Path, sources, cfg.DialTimeout, bufSize),
		start: time.Now(),
		res: &Result{
			Scenario: cfg.Scenario, Target: cfg.URL, Args: cfg.describe(),
			Clients: cfg.Clients, PID: cfg.PID,
		},
	}
	defer r.dial.hc.CloseIdleConnections()
	if cfg.PID > 0 {
		r.mon = startMonitor(append([]int{cfg.PID}, cfg.PIDs...), 200*time.Millisecond)
		defer r.mon.close()
	}
	pings.Store(0)
	genStart, _ := readProc(0)

	if cfg.Scenario != "connect" {
		r.res.Size = cfg.Size
	}
	switch cfg.Scenario {
	case "connect":
		err = r.connectScenario(ctx)
	case "fanout":
		err = r.fanoutScenario(ctx)
	case "echo":
		err = r.echoScenario(ctx)
	}
	if genEnd, e := readProc(0); e == nil {
		r.res.GenCPUSec = round((genEnd.cpu - genStart.cpu).Seconds())
	}
	r.res.Pings = pings.Load()
	if r.mon != nil {
		r.mon.now()
		r.res.ServerPeakRSSKB = r.mon.peak()
	}
	r.res.Errors = r.errs.snapshot()
	return r.res, err
}

// clientSpec says how to open client i.
type clientSpec struct {
	auth  []byte // CONNECT payload, nil for none
	room  int
	onMsg func(c *client, pkt []byte)
}

// isPolling spreads the polling clients evenly among the others.
func (r *runner) isPolling(i int) bool {
	p := r.cfg.Polling
	return p > 0 && int(float64(i+1)*p) > int(float64(i)*p)
}

// connectAll opens n clients, cfg.Concurrency at a time, and starts their
// reader goroutines. Failed clients are nil. It records the connect figures.
func (r *runner) connectAll(ctx context.Context, n int, spec func(i int) clientSpec, hist *histogram) []*client {
	clients := make([]*client, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	begin := time.Now()
	for w := 0; w < min(r.cfg.Concurrency, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				s := spec(i)
				t0 := time.Now()
				c, err := r.dial.open(ctx, i, r.isPolling(i), s.auth)
				if err != nil {
					r.failed.Add(1)
					r.errs.add(fmt.Errorf("connect: %w", err))
					continue
				}
				hist.record(i, time.Since(t0))
				c.room, c.onMsg, c.last = s.room, s.onMsg, -1
				clients[i] = c
				r.opened.Add(1)
				go c.readLoop()
			}
		}()
	}
	wg.Wait()
	wall := time.Since(begin)
	res := r.res
	res.Connected = int(r.opened.Load())
	res.ConnectFailures = int(r.failed.Load())
	for i := range n {
		if r.isPolling(i) {
			res.PollingClients++
		}
	}
	res.ConnectSeconds = round(wall.Seconds())
	res.ConnectsPerSec = perSecond(int64(res.Connected), wall)
	res.ConnectLatency = hist.snapshot().summary()
	return clients
}

// collectDropped returns how many clients the server disconnected, and logs
// why.
func (r *runner) collectDropped(clients []*client) int {
	n := 0
	for _, c := range clients {
		if c != nil && c.dropped() {
			n++
			r.errs.add(fmt.Errorf("dropped: %w", c.err))
		}
	}
	return n
}

// countDropped returns how many clients the server disconnected.
func countDropped(clients []*client) int {
	n := 0
	for _, c := range clients {
		if c != nil && c.dropped() {
			n++
		}
	}
	return n
}

// closeAll closes every client, cfg.Concurrency at a time.
func (r *runner) closeAll(clients []*client) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(r.cfg.Concurrency, len(clients)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(clients) {
					return
				}
				if c := clients[i]; c != nil {
					c.shut()
				}
			}
		}()
	}
	wg.Wait()
}

// serverCPU fills the server's CPU figures for a phase that began with before.
func (r *runner) serverCPU(before procSample, wall time.Duration) {
	if r.mon == nil {
		return
	}
	after := r.mon.now()
	cpu := after.cpu - before.cpu
	r.res.ServerCPUSec = round(cpu.Seconds())
	if wall > 0 {
		r.res.ServerCPUPct = math1(100 * cpu.Seconds() / wall.Seconds())
	}
}

// serverSample samples the server, or returns zero without -pid.
func (r *runner) serverSample() procSample {
	if r.mon == nil {
		return procSample{}
	}
	return r.mon.now()
}

// serverLine is the server's part of a progress line.
func (r *runner) serverLine(prev *procSample, prevAt *time.Time) string {
	if r.mon == nil {
		return ""
	}
	now, at := r.mon.now(), time.Now()
	pct := 0.0
	if d := at.Sub(*prevAt); d > 0 {
		pct = 100 * (now.cpu - prev.cpu).Seconds() / d.Seconds()
	}
	*prev, *prevAt = now, at
	return fmt.Sprintf(" | server cpu %.0f%% rss %s", pct, mib(now.rssKB))
}

func mib(kb int64) string { return fmt.Sprintf("%.1fMiB", float64(kb)/1024) }

func math1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }

// raiseNoFile raises the soft file limit, and the hard one when allowed (as
// root), to want; servers started by compare inherit it.
func raiseNoFile(want uint64) error {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return err
	}
	if rl.Cur >= want {
		return nil
	}
	if b, err := os.ReadFile("/proc/sys/fs/nr_open"); err == nil {
		if nrOpen, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil {
			want = min(want, nrOpen)
		}
	}
	if rl.Max < want {
		raised := syscall.Rlimit{Cur: want, Max: want}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised) == nil {
			return nil
		}
	}
	rl.Cur = min(want, rl.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return fmt.Errorf("raising the file limit to %d: %w", rl.Cur, err)
	}
	if rl.Cur < want {
		return fmt.Errorf("the file limit is %d, below the %d this run may need", rl.Cur, want)
	}
	return nil
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"regexp"
	"sync"
	"time"
)

// Result is the one JSON line a run prints at its end. Figures that do not
// apply to a scenario are left out.
type Result struct {
	Scenario string `json:"scenario"`
	Server   string `json:"server,omitempty"` // the label given by compare
	Target   string `json:"target"`
	Args     string `json:"args"` // the scenario's flags, as a command line

	Clients         int      `json:"clients"`
	PollingClients  int      `json:"polling_clients,omitempty"`
	Connected       int      `json:"connected"`
	ConnectFailures int      `json:"connect_failures"`
	ConnectSeconds  float64  `json:"connect_s"`
	ConnectsPerSec  float64  `json:"connects_per_s"`
	ConnectLatency  *Latency `json:"connect_latency_ms,omitempty"`
	Dropped         int      `json:"dropped"` // connections the server ended before the tool closed them
	Pings           int64    `json:"pings_answered"`

	PhaseSeconds float64 `json:"phase_s,omitempty"` // the measured phase, drain included

	// fanout
	Rooms          int      `json:"rooms,omitempty"`
	Window         int      `json:"window,omitempty"`
	Rate           float64  `json:"rate,omitempty"`
	Size           int      `json:"size,omitempty"`
	Broadcasts     int64    `json:"broadcasts,omitempty"`
	BroadcastsPerS float64  `json:"broadcasts_per_s,omitempty"`
	Expected       int64    `json:"expected,omitempty"`
	Received       int64    `json:"received,omitempty"`
	Lost           *int64   `json:"lost,omitempty"` // expected − received: set by fanout and echo, even when 0
	Duplicates     int64    `json:"duplicates,omitempty"`
	OutOfOrder     int64    `json:"out_of_order,omitempty"`
	DeliveriesPerS float64  `json:"deliveries_per_s,omitempty"`
	Latency        *Latency `json:"latency_ms,omitempty"`

	// echo
	Echoes   int64   `json:"echoes,omitempty"`
	Acks     int64   `json:"acks,omitempty"`
	AcksPerS float64 `json:"acks_per_s,omitempty"`

	// connect: the server's memory before and after opening the connections
	RSSBeforeKB     int64   `json:"rss_before_kb,omitempty"`
	RSSAfterKB      int64   `json:"rss_after_kb,omitempty"`
	MemPerConnBytes float64 `json:"mem_per_conn_bytes,omitempty"`

	// the server process named by -pid, over the measured phase
	PID             int     `json:"pid,omitempty"`
	ServerCPUSec    float64 `json:"server_cpu_s,omitempty"`
	ServerCPUPct    float64 `json:"server_cpu_pct,omitempty"`
	ServerPeakRSSKB int64   `json:"server_peak_rss_kb,omitempty"`

	// the generator itself, to tell when it, not the server, was the limit
	GenCPUSec float64 `json:"gen_cpu_s"`

	Errors map[string]int `json:"errors,omitempty"` // distinct errors, counted
}

// writeJSON writes r as one line.
func (r *Result) writeJSON(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func ptr[T any](v T) *T { return &v }

// round keeps 3 decimals of a rate or a duration in seconds.
func round(v float64) float64 { return math.Round(v*1000) / 1000 }

// perSecond is n over d, rounded.
func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return round(float64(n) / d.Seconds())
}

// errorLog counts errors by message, keeping a bounded number of distinct ones.
type errorLog struct {
	mu     sync.Mutex
	counts map[string]int
}

const maxDistinctErrors = 10

// ephemeralPort matches the port of an address in an error message, which
// would make every connection's error distinct.
var ephemeralPort = regexp.MustCompile(`(\d+\.\d+\.\d+\.\d+|\]):\d+`)

func (l *errorLog) add(err error) {
	if err == nil {
		return
	}
	msg := ephemeralPort.ReplaceAllString(err.Error(), "$1:*")
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.counts == nil {
		l.counts = map[string]int{}
	}
	if _, ok := l.counts[msg]; !ok && len(l.counts) >= maxDistinctErrors {
		msg = "(other errors)"
	}
	l.counts[msg]++
}

func (l *errorLog) snapshot() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.counts) == 0 {
		return nil
	}
	out := make(map[string]int, len(l.counts))
	for k, v := range l.counts {
		out[k] = v
	}
	return out
}

// progress prints line() every period until stop is called.
type progress struct {
	stop chan struct{}
	wg   sync.WaitGroup
}

func startProgress(w io.Writer, every time.Duration, start time.Time, line func() string) *progress {
	p := &progress{stop: make(chan struct{})}
	if w == nil || every <= 0 {
		return p
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				fmt.Fprintf(w, "[%6.1fs] %s\n", time.Since(start).Seconds(), line())
			}
		}
	}()
	return p
}

func (p *progress) close() {
	close(p.stop)
	p.wg.Wait()
}

// si writes a count with a k/M suffix, for progress lines and tables.
func si(v float64) string {
	switch a := math.Abs(v); {
	case a >= 10e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case a >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case a >= 10e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	case a >= 1e3:
		return fmt.Sprintf("%.2fk", v/1e3)
	case a >= 100 || a == math.Trunc(a):
		return fmt.Sprintf("%.0f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

// Command roomcast-soak runs a Roomcast server with the reference app under
// a mixed load for a fixed duration: healthy clients in one room receiving a
// steady stream of broadcasts, churning clients that connect, ack and leave,
// and hostile clients (malformed packets, oversized payloads, stalled readers,
// abandoned polls, slow HTTP headers). It reports, as one JSON line, whether
// every healthy client received every broadcast, and how the server's memory
// and goroutines behaved. It exits 1 when a healthy client lost a message or
// was dropped.
//
//	roomcast-soak -duration 60s
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomcast/roomcast"
	"github.com/roomcast/roomcast/internal/benchapp"
)

type config struct {
	duration time.Duration
	healthy  int
	rate     int
	churners int
	hostile  int
}

// result is the JSON line printed at the end.
type result struct {
	Duration       string  `json:"duration"`
	Healthy        int     `json:"healthy_clients"`
	Published      int64   `json:"broadcasts_published"`
	Expected       int64   `json:"healthy_deliveries_expected"`
	Lost           int64   `json:"healthy_deliveries_lost"`
	HealthyDropped int64   `json:"healthy_clients_dropped"`
	ChurnCycles    int64   `json:"churn_cycles"`
	ChurnErrors    int64   `json:"churn_errors"`
	FirstChurnErr  string  `json:"first_churn_error,omitempty"`
	HostileActions int64   `json:"hostile_actions"`
	LatencyP50ms   float64 `json:"healthy_latency_p50_ms"`
	LatencyP99ms   float64 `json:"healthy_latency_p99_ms"`
	LatencyMaxms   float64 `json:"healthy_latency_max_ms"`
	PeakRSSMiB     float64 `json:"peak_rss_mib"`
	PeakHeapMiB    float64 `json:"peak_heap_mib"`
	EndHeapMiB     float64 `json:"end_heap_mib"`
	Goroutines     [2]int  `json:"goroutines_start_end"`
	Pass           bool    `json:"pass"`
}

func main() {
	var cfg config
	flag.DurationVar(&cfg.duration, "duration", 60*time.Second, "how long the load runs")
	flag.IntVar(&cfg.healthy, "healthy", 50, "healthy clients in the broadcast room")
	flag.IntVar(&cfg.rate, "rate", 100, "broadcasts per second to the healthy room")
	flag.IntVar(&cfg.churners, "churners", 8, "goroutines that connect, ack and leave in a loop")
	flag.IntVar(&cfg.hostile, "hostile", 4, "goroutines sending hostile traffic")
	flag.Parse()
	res, err := run(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "roomcast-soak:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	if !res.Pass {
		os.Exit(1)
	}
}

func run(cfg config) (*result, error) {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	srv := roomcast.NewServer(roomcast.Options{Logger: logger})
	benchapp.Register(srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 2 * time.Second}
	go hs.Serve(ln)
	base := "http://" + ln.Addr().String()
	res := &result{Duration: cfg.duration.String(), Healthy: cfg.healthy}
	res.Goroutines[0] = runtime.NumGoroutine()

	ctx, cancel := context.WithTimeout(context.Background(), cfg.duration)
	defer cancel()
	mem := startMemoryWatch()

	// Healthy clients join the room before the first broadcast.
	healthy := make([]*receiver, cfg.healthy)
	for i := range healthy {
		r, err := newReceiver(base, "soak")
		if err != nil {
			return nil, fmt.Errorf("healthy client %d: %w", i, err)
		}
		healthy[i] = r
	}
	var wg sync.WaitGroup
	for i := 0; i < cfg.churners; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			churn(ctx, base, i, res)
		}(i)
	}
	for i := 0; i < cfg.hostile; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			hostile(ctx, base, i, res)
		}(i)
	}
	published, err := publish(ctx, base, "soak", cfg.rate)
	if err != nil {
		return nil, err
	}
	wg.Wait()
	res.Published = published

	// Let the last broadcasts arrive, then count.
	deadline := time.Now().Add(5 * time.Second)
	for _, r := range healthy {
		for r.count() < published && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	var latencies []time.Duration
	for _, r := range healthy {
		latencies = append(latencies, r.latencies()...)
	}
	res.LatencyP50ms, res.LatencyP99ms, res.LatencyMaxms = percentiles(latencies)
	for _, r := range healthy {
		res.Expected += published
		res.Lost += published - r.count()
		if r.dropped() {
			res.HealthyDropped++
		}
		r.close()
	}
	shutdown, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	srv.Shutdown(shutdown)
	hs.Shutdown(shutdown)
	peakRSS, peakHeap := mem.stop()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.PeakRSSMiB = mib(peakRSS)
	res.PeakHeapMiB = mib(peakHeap)
	res.EndHeapMiB = mib(ms.HeapAlloc)
	res.Goroutines[1] = runtime.NumGoroutine()
	res.Pass = res.Lost == 0 && res.HealthyDropped == 0 && published > 0
	return res, nil
}

func mib(b uint64) float64 { return float64(b*100>>20) / 100 }

// publish sends "broadcast" to room at rate per second until ctx ends and
// returns how many were sent. Each payload carries its sequence number.
func publish(ctx context.Context, base, room string, rate int) (int64, error) {
	c, err := dial(base)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if _, err := c.Connect(ctx, "/", nil); err != nil {
		return 0, err
	}
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	var seq int64
	for {
		select {
		case <-ctx.Done():
			return seq, nil
		case <-tick.C:
			sent := time.Since(epoch).Nanoseconds()
			if err := c.Emit("/", "broadcast", room, map[string]any{"seq": seq, "t": sent}); err != nil {
				return seq, fmt.Errorf("publisher: %w", err)
			}
			seq++
		}
	}
}

// memoryWatch samples the process's RSS and heap once a second.
type memoryWatch struct {
	done              chan struct{}
	wg                sync.WaitGroup
	peakRSS, peakHeap atomic.Uint64
}

func startMemoryWatch() *memoryWatch {
	m := &memoryWatch{done: make(chan struct{})}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			m.sample()
			select {
			case <-m.done:
				return
			case <-t.C:
			}
		}
	}()
	return m
}

func (m *memoryWatch) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapAlloc > m.peakHeap.Load() {
		m.peakHeap.Store(ms.HeapAlloc)
	}
	if rss := readRSS(); rss > m.peakRSS.Load() {
		m.peakRSS.Store(rss)
	}
}

func (m *memoryWatch) stop() (rss, heap uint64) {
	close(m.done)
	m.wg.Wait()
	return m.peakRSS.Load(), m.peakHeap.Load()
}

// readRSS returns the resident set size from /proc/self/statm (0 elsewhere).
func readRSS() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, resident uint64
	fmt.Sscan(string(b), &size, &resident)
	return resident * uint64(os.Getpagesize())
}

// epoch is the time payload timestamps count from.
var epoch = time.Now()

// percentiles returns p50, p99 and max in milliseconds.
func percentiles(d []time.Duration) (p50, p99, max float64) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	slices.Sort(d)
	ms := func(x time.Duration) float64 { return float64(x.Microseconds()) / 1000 }
	return ms(d[len(d)/2]), ms(d[len(d)*99/100]), ms(d[len(d)-1])
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/roomcast/roomcast"
	redisadapter "github.com/roomcast/roomcast/adapter/redis"
	"github.com/roomcast/roomcast/internal/benchapp"
)

func TestMain(m *testing.M) {
	// The test binary doubles as a bench app server for the compare tests.
	if os.Getenv(serveEnv) != "" {
		serveApp()
		return
	}
	goleak.VerifyTestMain(m)
}

const serveEnv = "ROOMCAST_BENCH_TEST_SERVE"

// serveApp is a bench app server as compare expects one: it listens on
// 127.0.0.1:$PORT, prints READY <port> and exits on SIGTERM. With
// $REDIS_URL it is one node of a cluster.
func serveApp() {
	var opts roomcast.Options
	if url := os.Getenv("REDIS_URL"); url != "" {
		ropts, err := goredis.ParseURL(url)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		rdb := goredis.NewClient(ropts)
		defer rdb.Close()
		opts.Adapter = redisadapter.New(rdb, nil)
	}
	srv := roomcast.NewServer(opts)
	benchapp.Register(srv)
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("PORT"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	hs := &http.Server{Handler: srv}
	go hs.Serve(ln)
	fmt.Printf("READY %d\n", ln.Addr().(*net.TCPAddr).Port)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	hs.Shutdown(shutdown)
}

// startApp serves the bench app on an in-process Roomcast server.
func startApp(t *testing.T) string {
	t.Helper()
	srv := roomcast.NewServer(roomcast.Options{})
	benchapp.Register(srv)
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		hs.CloseClientConnections()
		hs.Close()
	})
	return hs.URL
}

// brief is a short run against url, reporting on the test's own process.
func brief(t *testing.T, url, scenario string) Config {
	return Config{
		Scenario: scenario, URL: url, Clients: 24, Concurrency: 8, Duration: 300 * time.Millisecond,
		Rooms: 4, Size: 64, Drain: 5 * time.Second, Timeout: time.Minute, DialTimeout: 10 * time.Second,
		Settle: 10 * time.Millisecond, Polling: 0.25, PID: os.Getpid(),
		Progress: 100 * time.Millisecond, Log: &testLog{t},
	}
}

type testLog struct{ t *testing.T }

func (l *testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func mustRun(t *testing.T, cfg Config) *Result {
	t.Helper()
	res, err := run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("%s: %v", cfg.describe(), err)
	}
	b, _ := json.Marshal(res)
	t.Logf("%s", b)
	if res.Connected != cfg.Clients || res.ConnectFailures != 0 || res.Dropped != 0 || res.Errors != nil {
		t.Errorf("connected %d/%d, %d failures, %d dropped, errors %v",
			res.Connected, cfg.Clients, res.ConnectFailures, res.Dropped, res.Errors)
	}
	if res.PollingClients != cfg.Clients/4 {
		t.Errorf("%d polling clients, want %d", res.PollingClients, cfg.Clients/4)
	}
	if res.ServerPeakRSSKB <= 0 {
		t.Errorf("no peak RSS for pid %d", cfg.PID)
	}
	return res
}

func checkFanout(t *testing.T, res *Result) {
	t.Helper()
	if res.Broadcasts == 0 || res.Received != res.Expected || *res.Lost != 0 ||
		res.Duplicates != 0 || res.OutOfOrder != 0 {
		t.Errorf("broadcasts %d, received %d of %d, lost %d, dups %d, out of order %d",
			res.Broadcasts, res.Received, res.Expected, *res.Lost, res.Duplicates, res.OutOfOrder)
	}
	if res.Latency == nil || res.Latency.Count != uint64(res.Received) || res.DeliveriesPerS <= 0 {
		t.Errorf("latency %+v, deliveries/s %v", res.Latency, res.DeliveriesPerS)
	}
}

func TestScenarios(t *testing.T) {
	url := startApp(t)

	t.Run("connect", func(t *testing.T) {
		cfg := brief(t, url, "connect")
		cfg.Hold = 200 * time.Millisecond
		res := mustRun(t, cfg)
		if res.ConnectsPerSec <= 0 || res.ConnectLatency == nil || res.RSSAfterKB <= 0 || res.PhaseSeconds < 0.2 {
			t.Errorf("connects/s %v, latency %+v, rss after %d, hold %v",
				res.ConnectsPerSec, res.ConnectLatency, res.RSSAfterKB, res.PhaseSeconds)
		}
	})

	t.Run("fanout closed loop", func(t *testing.T) {
		cfg := brief(t, url, "fanout")
		cfg.Window = 3
		res := mustRun(t, cfg)
		checkFanout(t, res)
		if res.Window != 3 || res.Expected != res.Broadcasts*int64(cfg.Clients/cfg.Rooms) {
			t.Errorf("window %d, expected %d for %d broadcasts", res.Window, res.Expected, res.Broadcasts)
		}
	})

	t.Run("fanout open loop", func(t *testing.T) {
		cfg := brief(t, url, "fanout")
		cfg.Rate = 100
		res := mustRun(t, cfg)
		checkFanout(t, res)
		if res.Broadcasts < 20 || res.Broadcasts > 32 {
			t.Errorf("%d broadcasts in 300ms at 100/s", res.Broadcasts)
		}
	})

	t.Run("fanout count", func(t *testing.T) {
		cfg := brief(t, url, "fanout")
		cfg.Count, cfg.Duration = 10, time.Minute
		res := mustRun(t, cfg)
		checkFanout(t, res)
		if res.Broadcasts != 10 {
			t.Errorf("%d broadcasts, want -count 10", res.Broadcasts)
		}
	})

	t.Run("echo", func(t *testing.T) {
		cfg := brief(t, url, "echo")
		cfg.Clients, cfg.Window = 8, 2
		res := mustRun(t, cfg)
		if res.Echoes == 0 || res.Acks != res.Echoes || *res.Lost != 0 || res.AcksPerS <= 0 ||
			res.Latency == nil || res.Latency.Count != uint64(res.Acks) {
			t.Errorf("echoes %d, acks %d, lost %d, acks/s %v, latency %+v",
				res.Echoes, res.Acks, *res.Lost, res.AcksPerS, res.Latency)
		}
	})

	t.Run("echo count", func(t *testing.T) {
		cfg := brief(t, url, "echo")
		cfg.Clients, cfg.Count, cfg.Duration = 8, 50, time.Minute
		res := mustRun(t, cfg)
		if res.Echoes != 50 || res.Acks != 50 {
			t.Errorf("echoes %d, acks %d, want -count 50", res.Echoes, res.Acks)
		}
	})

	t.Run("command line", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		code := realMain(context.Background(), []string{"echo", "-url", url, "-n", "2", "-d", "100ms", "-progress", "0"}, &stdout, &stderr)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		var res Result
		if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || strings.Count(stdout.String(), "\n") != 1 {
			t.Fatalf("stdout is not one JSON line: %q (%v)", stdout.String(), err)
		}
		if res.Scenario != "echo" || res.Acks == 0 {
			t.Errorf("result %+v", res)
		}
	})
}

func TestCommandLineErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"flood"}, {"echo", "-n", "0"}, {"fanout", "-url", "https://x"}, {"echo", "stray"}} {
		var stdout, stderr bytes.Buffer
		if code := realMain(context.Background(), args, &stdout, &stderr); code == 0 {
			t.Errorf("%q: exit 0", args)
		}
		if stdout.Len() != 0 {
			t.Errorf("%q: printed %q", args, stdout.String())
		}
	}
}

func TestUnreachableServer(t *testing.T) {
	cfg := Config{Scenario: "connect", URL: "http://127.0.0.1:1", Clients: 3, Concurrency: 3,
		DialTimeout: time.Second, Timeout: 10 * time.Second}
	res, err := run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Connected != 0 || res.ConnectFailures != 3 || len(res.Errors) == 0 {
		t.Errorf("connected %d, failures %d, errors %v", res.Connected, res.ConnectFailures, res.Errors)
	}
}

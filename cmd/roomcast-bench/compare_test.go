package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// TestCompareAlternates starts two servers (this test binary, serving the
// bench app) in turn, A B A B, and reports the table, the summary and the chart.
func TestCompareAlternates(t *testing.T) {
	t.Setenv(serveEnv, "1") // inherited by the servers
	servers := []serverDef{{name: "a", argv: []string{os.Args[0]}}, {name: "b", argv: []string{os.Args[0]}}}
	cfg := Config{Scenario: "echo", Clients: 4, Duration: 200 * time.Millisecond, Drain: 5 * time.Second,
		Timeout: time.Minute, Size: 16}.withDefaults()
	var log bytes.Buffer
	runs, err := alternate(context.Background(), servers, cfg, 2, 1, 0, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	order := regexpAll(log.String(), `== round (\d)/2: (\w)`)
	if strings.Join(order, " ") != "1a 1b 2a 2b" {
		t.Errorf("runs in order %q, want A B A B", order)
	}
	pids := map[int]bool{}
	for _, name := range []string{"a", "b"} {
		if len(runs[name]) != 2 {
			t.Fatalf("%s ran %d times", name, len(runs[name]))
		}
		for _, r := range runs[name] {
			if r.Server != name || r.Acks == 0 || *r.Lost != 0 || r.PID == 0 || r.ServerPeakRSSKB == 0 {
				t.Errorf("%s: %+v", name, r)
			}
			pids[r.PID] = true
		}
	}
	if len(pids) != 4 {
		t.Errorf("%d distinct server processes for 4 runs", len(pids))
	}

	chart := filepath.Join(t.TempDir(), "echo.svg")
	var stdout, stderr bytes.Buffer
	if err := report(&stdout, &stderr, servers, cfg, compareOptions{rounds: 2, chart: chart}, runs); err != nil {
		t.Fatal(err)
	}
	out := stdout.String()
	if !strings.Contains(out, "acks/s") || !strings.Contains(out, "a/b") {
		t.Errorf("table:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var summary struct {
		Ratios map[string]float64
		Runs   map[string][]*Result
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &summary); err != nil {
		t.Fatalf("last line is not the summary: %v", err)
	}
	if summary.Ratios["acks/s"] <= 0 || len(summary.Runs["b"]) != 2 {
		t.Errorf("summary %+v", summary)
	}
	if svg, err := os.ReadFile(chart); err != nil || !bytes.HasPrefix(svg, []byte("<svg")) {
		t.Errorf("chart: %v %.40q", err, svg)
	}
}

// TestFanoutOverACluster runs fanout against two servers joined through
// the real Redis: members spread over both, the publisher on the first,
// every broadcast delivered to every member, figures of both processes.
func TestFanoutOverACluster(t *testing.T) {
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	err := rdb.Ping(context.Background()).Err()
	rdb.Close()
	if err != nil {
		if os.Getenv("ROOMCAST_REQUIRE_REDIS") != "" {
			t.Fatal(err)
		}
		t.Skip("no Redis at 127.0.0.1:6379:", err)
	}
	t.Setenv(serveEnv, "1")
	t.Setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
	cfg := Config{Scenario: "fanout", Clients: 20, Rooms: 4, Window: 4, Duration: 300 * time.Millisecond,
		Drain: 5 * time.Second, Timeout: time.Minute, Size: 16}.withDefaults()
	res, err := runAgainst(context.Background(), serverDef{name: "a", argv: []string{os.Args[0]}}, 2, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Received == 0 || res.Lost == nil || *res.Lost != 0 || len(strings.Split(res.Target, ",")) != 2 {
		t.Fatalf("%+v", res)
	}
	if res.Received != res.Broadcasts*int64(cfg.Clients/cfg.Rooms) || res.Duplicates != 0 {
		t.Errorf("%d deliveries for %d broadcasts to rooms of %d", res.Received, res.Broadcasts, cfg.Clients/cfg.Rooms)
	}
}

func TestStartServerReportsEarlyExit(t *testing.T) {
	_, err := startServer(context.Background(), serverDef{name: "false", argv: []string{"false"}})
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") {
		t.Errorf("err = %v", err)
	}
}

func TestFindRoot(t *testing.T) {
	root, err := findRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "examples", "reference")); err != nil {
		t.Errorf("root %s: %v", root, err)
	}
}

func regexpAll(s, expr string) []string {
	var out []string
	for _, m := range regexp.MustCompile(expr).FindAllStringSubmatch(s, -1) {
		out = append(out, strings.Join(m[1:], ""))
	}
	return out
}

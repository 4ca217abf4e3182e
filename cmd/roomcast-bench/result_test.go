package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestResultJSONIsOneLine(t *testing.T) {
	r := &Result{Scenario: "fanout", Target: "http://x", Clients: 10, Connected: 10, Rooms: 2, Window: 3, Size: 100,
		Broadcasts: 5, Expected: 25, Received: 25, Lost: ptr[int64](0), DeliveriesPerS: 1234.5,
		Latency: &Latency{Count: 25, P50: 1, P99: 2, Max: 3}, PID: 7, ServerCPUSec: 0.5, ServerPeakRSSKB: 2048,
		Errors: map[string]int{"connect: refused": 2}}
	var buf bytes.Buffer
	if err := r.writeJSON(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
		t.Fatalf("not one line: %q", out)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"scenario", "deliveries_per_s", "latency_ms", "lost", "server_cpu_s", "server_peak_rss_kb", "errors", "window", "rooms"} {
		if _, ok := m[key]; !ok {
			t.Errorf("missing %q in %s", key, out)
		}
	}
	if m["lost"] != 0.0 {
		t.Errorf("lost = %v, want an explicit 0", m["lost"])
	}
	if lat := m["latency_ms"].(map[string]any); lat["p99"] != 2.0 {
		t.Errorf("latency_ms = %v", lat)
	}
}

func TestResultJSONOmitsOtherScenarios(t *testing.T) {
	r := &Result{Scenario: "connect", Clients: 3, Connected: 3, ConnectsPerSec: 100, MemPerConnBytes: 4096}
	b, _ := json.Marshal(r)
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, key := range []string{"lost", "latency_ms", "deliveries_per_s", "acks_per_s", "size", "window", "pid", "errors"} {
		if _, ok := m[key]; ok {
			t.Errorf("connect result has %q: %s", key, b)
		}
	}
	for _, key := range []string{"connects_per_s", "mem_per_conn_bytes", "connect_failures", "dropped"} {
		if _, ok := m[key]; !ok {
			t.Errorf("connect result lacks %q: %s", key, b)
		}
	}
}

func TestErrorLogIsBounded(t *testing.T) {
	var l errorLog
	if l.snapshot() != nil {
		t.Error("empty log has errors")
	}
	for i := 0; i < 100; i++ {
		l.add(fmt.Errorf("error %d", i%20))
	}
	l.add(nil)
	s := l.snapshot()
	if len(s) != maxDistinctErrors+1 {
		t.Errorf("%d distinct entries, want %d: %v", len(s), maxDistinctErrors+1, s)
	}
	total := 0
	for _, n := range s {
		total += n
	}
	if total != 100 || s["error 0"] != 5 || s["(other errors)"] != 50 {
		t.Errorf("counts %v", s)
	}
	l.add(errors.New("error 1"))
	if l.snapshot()["error 1"] != 6 {
		t.Error("a known error is not counted past the bound")
	}
}

func TestErrorLogDropsPorts(t *testing.T) {
	var l errorLog
	l.add(errors.New("dial tcp 127.0.0.1:0->127.0.0.1:43859: socket: too many open files"))
	l.add(errors.New("read tcp 127.0.0.2:52024->127.0.0.1:43859: connection reset by peer"))
	l.add(errors.New("read tcp 127.0.0.2:52042->127.0.0.1:43859: connection reset by peer"))
	l.add(errors.New("read tcp [::1]:52042->[::1]:3000: connection reset by peer"))
	want := map[string]int{
		"dial tcp 127.0.0.1:*->127.0.0.1:*: socket: too many open files": 1,
		"read tcp 127.0.0.2:*->127.0.0.1:*: connection reset by peer":    2,
		"read tcp [::1]:*->[::1]:*: connection reset by peer":            1,
	}
	got := l.snapshot()
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%q: %d, want %d (all: %v)", k, got[k], n, got)
		}
	}
}

func TestPerSecondAndRound(t *testing.T) {
	if got := perSecond(1500, 1500*1e6); got != 1000 {
		t.Errorf("perSecond = %v", got)
	}
	if got := perSecond(5, 0); got != 0 {
		t.Errorf("perSecond over 0 = %v", got)
	}
	if got := round(1.23456); got != 1.235 {
		t.Errorf("round = %v", got)
	}
}

func TestSI(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 7: "7", 0.25: "0.250", 3.5: "3.50", 512: "512", 1234: "1.23k",
		98765: "98.8k", 2.5e6: "2.50M", 4.2e7: "42.0M"} {
		if got := si(v); got != want {
			t.Errorf("si(%g) = %s, want %s", v, got, want)
		}
	}
}

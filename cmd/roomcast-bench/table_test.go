package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

func fanoutRun(deliv, p99 float64, lost int64, cpu float64) *Result {
	return &Result{Scenario: "fanout", DeliveriesPerS: deliv, BroadcastsPerS: deliv / 10, Received: int64(deliv),
		Lost: ptr(lost), Latency: &Latency{P50: p99 / 2, P99: p99, Max: p99 * 2}, PID: 1, ServerCPUSec: cpu,
		ServerCPUPct: cpu * 100, ServerPeakRSSKB: 10240}
}

func TestCompareTable(t *testing.T) {
	runs := map[string][]*Result{
		"roomcast": {fanoutRun(200e3, 2, 0, 1), fanoutRun(220e3, 4, 0, 1)},
		"node":     {fanoutRun(100e3, 6, 0, 2), fanoutRun(110e3, 6, 0, 2)},
	}
	tb := buildTable("fanout", []string{"roomcast", "node"}, runs)
	ratios := tb.ratios()
	if got := ratios["deliveries/s"]; got != 2 {
		t.Errorf("deliveries ratio %v, want 210/105 = 2", got)
	}
	if got := ratios["latency p99 ms"]; got != 0.5 {
		t.Errorf("p99 ratio %v, want 3/6", got)
	}
	if _, ok := ratios["lost"]; ok {
		t.Error("a ratio of 0 lost over 0 lost")
	}
	var out bytes.Buffer
	tb.write(&out)
	text := out.String()
	for _, want := range []string{"roomcast/node", "deliveries/s", "higher", "210.0k (200.0k 220.0k)", "105.0k", "2.00", "0.50", "lower"} {
		if !strings.Contains(text, want) {
			t.Errorf("table lacks %q:\n%s", want, text)
		}
	}
	// The lost row is there, with no ratio.
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "lost") && !strings.HasSuffix(strings.TrimSpace(line), "-") {
			t.Errorf("lost row: %q", line)
		}
	}
}

func TestTableSkipsFiguresWithoutPID(t *testing.T) {
	r := fanoutRun(1000, 1, 0, 0)
	r.PID = 0
	tb := buildTable("fanout", []string{"a", "b"}, map[string][]*Result{"a": {r}, "b": {r}})
	for _, row := range tb.rows {
		if strings.HasPrefix(row.name, "server") {
			t.Errorf("row %q without a server pid", row.name)
		}
	}
}

func TestMetricsOfEveryScenario(t *testing.T) {
	for _, s := range []string{"connect", "fanout", "echo"} {
		if len(metricsOf(s)) == 0 {
			t.Errorf("no metrics for %s", s)
		}
	}
}

func TestChartIsWellFormedSVG(t *testing.T) {
	runs := map[string][]*Result{
		"roomcast": {fanoutRun(200e3, 2, 0, 1)},
		"node":     {fanoutRun(100e3, 6, 3, 2)},
	}
	svg := buildTable("fanout", []string{"roomcast", "node"}, runs).svg(`fanout <n> & "rooms"`)
	dec := xml.NewDecoder(strings.NewReader(svg))
	rects := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("invalid SVG: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
			rects++
		}
	}
	if rects < 5 {
		t.Errorf("%d rects: %s", rects, svg)
	}
	if !strings.Contains(svg, "#2e8b57") || !strings.Contains(svg, "2.00") {
		t.Errorf("no green bar with ratio 2.00:\n%s", svg)
	}
}

package main

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// metric is one figure of a scenario's results.
type metric struct {
	name   string
	higher bool // higher is better
	get    func(*Result) (float64, bool)
}

func lat(f func(*Latency) float64) func(*Result) (float64, bool) {
	return func(r *Result) (float64, bool) {
		if r.Latency == nil {
			return 0, false
		}
		return f(r.Latency), true
	}
}

func withPID(f func(*Result) float64) func(*Result) (float64, bool) {
	return func(r *Result) (float64, bool) { return f(r), r.PID > 0 }
}

// cpuPer is the server's CPU time per unit of work, in microseconds.
func cpuPer(work func(*Result) int64) func(*Result) (float64, bool) {
	return func(r *Result) (float64, bool) {
		n := work(r)
		if r.PID == 0 || n == 0 {
			return 0, false
		}
		return r.ServerCPUSec * 1e6 / float64(n), true
	}
}

func always(f func(*Result) float64) func(*Result) (float64, bool) {
	return func(r *Result) (float64, bool) { return f(r), true }
}

func lost(r *Result) (float64, bool) {
	if r.Lost == nil {
		return 0, false
	}
	return float64(*r.Lost), true
}

var peakRSS = metric{"server peak RSS MiB", false, withPID(func(r *Result) float64 { return float64(r.ServerPeakRSSKB) / 1024 })}

// metricsOf returns the figures compare reports for a scenario.
func metricsOf(scenario string) []metric {
	switch scenario {
	case "connect":
		return []metric{
			{"connections/s", true, always(func(r *Result) float64 { return r.ConnectsPerSec })},
			{"connect p99 ms", false, func(r *Result) (float64, bool) {
				if r.ConnectLatency == nil {
					return 0, false
				}
				return r.ConnectLatency.P99, true
			}},
			{"memory per connection B", false, withPID(func(r *Result) float64 { return r.MemPerConnBytes })},
			{"server CPU s (connecting)", false, withPID(func(r *Result) float64 { return r.ServerCPUSec })},
			peakRSS,
			{"connect failures", false, always(func(r *Result) float64 { return float64(r.ConnectFailures) })},
			{"dropped", false, always(func(r *Result) float64 { return float64(r.Dropped) })},
		}
	case "fanout":
		return []metric{
			{"deliveries/s", true, always(func(r *Result) float64 { return r.DeliveriesPerS })},
			{"broadcasts/s", true, always(func(r *Result) float64 { return r.BroadcastsPerS })},
			{"latency p50 ms", false, lat(func(l *Latency) float64 { return l.P50 })},
			{"latency p99 ms", false, lat(func(l *Latency) float64 { return l.P99 })},
			{"latency max ms", false, lat(func(l *Latency) float64 { return l.Max })},
			{"lost", false, lost},
			{"server CPU %", false, withPID(func(r *Result) float64 { return r.ServerCPUPct })},
			{"server CPU µs/delivery", false, cpuPer(func(r *Result) int64 { return r.Received })},
			peakRSS,
		}
	case "echo":
		return []metric{
			{"acks/s", true, always(func(r *Result) float64 { return r.AcksPerS })},
			{"latency p50 ms", false, lat(func(l *Latency) float64 { return l.P50 })},
			{"latency p99 ms", false, lat(func(l *Latency) float64 { return l.P99 })},
			{"lost", false, lost},
			{"server CPU %", false, withPID(func(r *Result) float64 { return r.ServerCPUPct })},
			{"server CPU µs/ack", false, cpuPer(func(r *Result) int64 { return r.Acks })},
			peakRSS,
		}
	}
	return nil
}

// table holds each figure of each server over the rounds.
type table struct {
	servers []string
	rows    []tableRow
}

type tableRow struct {
	metric
	values [][]float64 // per server, per round
}

func buildTable(scenario string, servers []string, runs map[string][]*Result) *table {
	t := &table{servers: servers}
	for _, m := range metricsOf(scenario) {
		row := tableRow{metric: m, values: make([][]float64, len(servers))}
		any := false
		for i, s := range servers {
			for _, r := range runs[s] {
				if v, ok := m.get(r); ok {
					row.values[i] = append(row.values[i], v)
					any = true
				}
			}
		}
		if any {
			t.rows = append(t.rows, row)
		}
	}
	return t
}

func mean(v []float64) (float64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v)), true
}

// ratio is the first server's mean over the second's; ok is false when it
// has no meaning (no second server, a zero or missing mean).
func (row tableRow) ratio() (float64, bool) {
	if len(row.values) < 2 {
		return 0, false
	}
	a, okA := mean(row.values[0])
	b, okB := mean(row.values[1])
	if !okA || !okB || b == 0 || (a == 0 && b == 0) {
		return 0, false
	}
	return a / b, true
}

// ratios maps each metric's name to its ratio, where it has one.
func (t *table) ratios() map[string]float64 {
	out := map[string]float64{}
	for _, row := range t.rows {
		if r, ok := row.ratio(); ok {
			out[row.name] = math.Round(r*1000) / 1000
		}
	}
	return out
}

// write prints the table: each server's mean, every round's value, and the ratio.
func (t *table) write(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := []string{"metric", "better"}
	head = append(head, t.servers...)
	if len(t.servers) == 2 {
		head = append(head, t.servers[0]+"/"+t.servers[1])
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, row := range t.rows {
		better := "lower"
		if row.higher {
			better = "higher"
		}
		cells := []string{row.name, better}
		for _, v := range row.values {
			cells = append(cells, cell(v))
		}
		if len(t.servers) == 2 {
			if r, ok := row.ratio(); ok {
				cells = append(cells, fmt.Sprintf("%.2f", r))
			} else {
				cells = append(cells, "-")
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
}

// cell is a mean followed by the rounds' values.
func cell(v []float64) string {
	m, ok := mean(v)
	if !ok {
		return "-"
	}
	if len(v) == 1 {
		return si(m)
	}
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = si(x)
	}
	return fmt.Sprintf("%s (%s)", si(m), strings.Join(parts, " "))
}

// svg draws the ratios as horizontal bars on a log scale centred on 1, green
// where the first server does better, red where it does worse.
func (t *table) svg(title string) string {
	type bar struct {
		label string
		ratio float64
		good  bool
	}
	var bars []bar
	for _, row := range t.rows {
		r, ok := row.ratio()
		if !ok || r <= 0 {
			continue
		}
		better := "lower is better"
		if row.higher {
			better = "higher is better"
		}
		bars = append(bars, bar{fmt.Sprintf("%s (%s)", row.name, better), r, (r >= 1) == row.higher || r == 1})
	}
	const (
		width, left, right = 900, 300, 60
		rowH, top          = 30, 60
		span               = 4.0 // log2 of the largest ratio drawn: 16x
	)
	height := top + rowH*len(bars) + 40
	plot := float64(width - left - right)
	x := func(r float64) float64 {
		l := math.Max(-span, math.Min(span, math.Log2(r)))
		return float64(left) + plot*(l+span)/(2*span)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="13">`+"\n", width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>`+"\n", 10, html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="%d" y="44" fill="#555">ratio %s, log scale; green: %s better</text>`+"\n",
		10, html.EscapeString(strings.Join(t.servers, "/")), html.EscapeString(t.servers[0]))
	for _, tick := range []float64{1.0 / 16, 1.0 / 4, 1, 4, 16} {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", x(tick), top-8, x(tick), height-30)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%s</text>`+"\n", x(tick), height-14, ratioLabel(tick))
	}
	for i, br := range bars {
		y := top + i*rowH
		x0, x1 := x(1), x(br.ratio)
		color := "#2e8b57"
		if !br.good {
			color = "#c0392b"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", left-8, y+17, html.EscapeString(br.label))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", math.Min(x0, x1), y+4, math.Max(1, math.Abs(x1-x0)), rowH-8, color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d">%.2f</text>`+"\n", math.Max(x0, x1)+4, y+17, br.ratio)
	}
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black"/>`+"\n", x(1), top-8, x(1), height-30)
	b.WriteString("</svg>\n")
	return b.String()
}

func ratioLabel(r float64) string {
	if r < 1 {
		return fmt.Sprintf("1/%g", 1/r)
	}
	return fmt.Sprintf("%g", r)
}

package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// compareOptions are the flags of compare beyond those of the scenario.
type compareOptions struct {
	rounds    int
	chart     string
	root      string
	servers   string
	reference string // a prebuilt examples/reference
	node      string
	pause     time.Duration
	cluster   int    // servers of each kind run at once, joined through Redis
	redis     string // their REDIS_URL
	// serverCPUs pins the servers to these CPUs (taskset -c), so that a
	// generator pinned to the others cannot take the server's CPU time.
	serverCPUs string
}

func compareMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := Config{Log: stderr}
	var opt compareOptions
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.addFlags(fs)
	fs.StringVar(&cfg.Scenario, "scenario", "fanout", "the scenario: connect, fanout or echo")
	fs.IntVar(&opt.rounds, "rounds", 2, "rounds; each runs every server once, in turn (A B A B)")
	fs.StringVar(&opt.chart, "chart", "", "write an SVG bar chart of the ratios to this file")
	fs.StringVar(&opt.root, "root", "", "the roomcast repository (default: found from the working directory)")
	fs.StringVar(&opt.servers, "servers", "roomcast,node", "the servers to run, in turn")
	fs.StringVar(&opt.reference, "reference-bin", "", "a prebuilt examples/reference (default: go build it)")
	fs.StringVar(&opt.node, "node", "node", "the node binary")
	fs.DurationVar(&opt.pause, "pause", time.Second, "pause between runs")
	fs.IntVar(&opt.cluster, "cluster", 1, "run this many servers of each kind at once, one cluster through the Redis adapter, with the clients spread over them")
	fs.StringVar(&opt.redis, "redis", "redis://127.0.0.1:6379/0", "with -cluster: the Redis the servers join (REDIS_URL)")
	fs.StringVar(&opt.serverCPUs, "server-cpus", "", "run the servers pinned to these CPUs with taskset -c (e.g. 0); pin the generator with taskset too (e.g. taskset -c 1 roomcast-bench compare ...)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if opt.rounds < 1 {
		return errors.New("-rounds must be at least 1")
	}
	if opt.cluster < 1 {
		return errors.New("-cluster must be at least 1")
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return err
	}
	// The servers inherit the file limit.
	if err := raiseNoFile(cfg.fileLimit()); err != nil {
		fmt.Fprintf(stderr, "roomcast-bench: %v\n", err)
	}

	servers, cleanup, err := prepareServers(ctx, opt, stderr)
	if err != nil {
		return err
	}
	defer cleanup()

	if opt.cluster > 1 {
		for i := range servers {
			servers[i].env = []string{"REDIS_URL=" + opt.redis}
		}
	}
	if opt.serverCPUs != "" {
		for i := range servers {
			servers[i].argv = append([]string{"taskset", "-c", opt.serverCPUs}, servers[i].argv...)
		}
	}
	runs, err := alternate(ctx, servers, cfg, opt.rounds, opt.cluster, opt.pause, stderr)
	if err != nil {
		return err
	}
	return report(stdout, stderr, servers, cfg, opt, runs)
}

// alternate runs the scenario rounds times against each server in turn,
// A B A B, starting each server afresh for its run.
func alternate(ctx context.Context, servers []serverDef, cfg Config, rounds, cluster int, pause time.Duration, log io.Writer) (map[string][]*Result, error) {
	runs := map[string][]*Result{}
	for round := 1; round <= rounds; round++ {
		for _, s := range servers {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			fmt.Fprintf(log, "== round %d/%d: %s: %s\n", round, rounds, s.name, cfg.describe())
			res, err := runAgainst(ctx, s, cluster, cfg)
			if err != nil {
				return nil, fmt.Errorf("%s, round %d: %w", s.name, round, err)
			}
			res.Server = s.name
			res.writeJSON(log)
			runs[s.name] = append(runs[s.name], res)
			sleep(ctx, pause)
		}
	}
	return runs, nil
}

// report prints the table and a summary JSON line, and writes the chart.
func report(stdout, stderr io.Writer, servers []serverDef, cfg Config, opt compareOptions, runs map[string][]*Result) error {
	names := make([]string, len(servers))
	for i, s := range servers {
		names[i] = s.name
	}
	table := buildTable(cfg.Scenario, names, runs)
	what := cfg.describe()
	if opt.cluster > 1 {
		what += fmt.Sprintf(", clusters of %d servers over Redis", opt.cluster)
	}
	if opt.serverCPUs != "" {
		what += fmt.Sprintf(", servers pinned to CPU %s", opt.serverCPUs)
	}
	fmt.Fprintf(stdout, "%s, %d round(s), servers alternated %s\n\n", what, opt.rounds, strings.Join(names, " "))
	table.write(stdout)
	summary := struct {
		Scenario string               `json:"scenario"`
		Args     string               `json:"args"`
		Rounds   int                  `json:"rounds"`
		Ratios   map[string]float64   `json:"ratios,omitempty"`
		Runs     map[string][]*Result `json:"runs"`
	}{cfg.Scenario, cfg.describe(), opt.rounds, table.ratios(), runs}
	b, err := json.Marshal(summary)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%s\n", b)
	if opt.chart != "" && len(names) == 2 {
		title := fmt.Sprintf("%s / %s: %s", names[0], names[1], what)
		if err := os.WriteFile(opt.chart, []byte(table.svg(title)), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "chart written to %s\n", opt.chart)
	}
	return nil
}

// runAgainst starts n servers of s (a cluster when n > 1), runs the
// scenario against them and stops them.
func runAgainst(ctx context.Context, s serverDef, n int, cfg Config) (*Result, error) {
	var srvs []*server
	stop := func() (err error) {
		for _, srv := range srvs {
			err = cmp.Or(err, srv.stop())
		}
		return err
	}
	var urls []string
	cfg.PIDs = nil
	for i := range n {
		srv, err := startServer(ctx, s)
		if err != nil {
			stop()
			return nil, err
		}
		srvs = append(srvs, srv)
		urls = append(urls, srv.url)
		if i == 0 {
			cfg.PID = srv.pid()
		} else {
			cfg.PIDs = append(cfg.PIDs, srv.pid())
		}
	}
	cfg.URL = strings.Join(urls, ",")
	res, err := run(ctx, cfg)
	if serr := stop(); serr != nil && err == nil {
		err = serr
	}
	if err != nil {
		var tails string
		for _, srv := range srvs {
			tails += srv.stderrTail()
		}
		return nil, fmt.Errorf("%w%s", err, tails)
	}
	return res, nil
}

// prepareServers builds or finds what each server needs to run.
func prepareServers(ctx context.Context, opt compareOptions, stderr io.Writer) ([]serverDef, func(), error) {
	root := opt.root
	if root == "" {
		var err error
		if root, err = findRoot(); err != nil {
			return nil, nil, err
		}
	}
	tmp, err := os.MkdirTemp("", "roomcast-bench-")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	var defs []serverDef
	for _, name := range strings.Split(opt.servers, ",") {
		switch name = strings.TrimSpace(name); name {
		case "roomcast":
			bin := opt.reference
			if bin == "" {
				bin = filepath.Join(tmp, "reference")
				fmt.Fprintf(stderr, "building examples/reference\n")
				cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./examples/reference")
				cmd.Dir, cmd.Stdout, cmd.Stderr = root, stderr, stderr
				if err := cmd.Run(); err != nil {
					cleanup()
					return nil, nil, fmt.Errorf("building examples/reference: %w", err)
				}
			}
			defs = append(defs, serverDef{name: name, argv: []string{bin}})
		case "node":
			dir := filepath.Join(root, "bench", "node")
			if _, err := os.Stat(filepath.Join(dir, "node_modules", "socket.io", "package.json")); err != nil {
				fmt.Fprintf(stderr, "installing bench/node with npm ci\n")
				cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
				cmd.Dir, cmd.Stdout, cmd.Stderr = dir, stderr, stderr
				if err := cmd.Run(); err != nil {
					cleanup()
					return nil, nil, fmt.Errorf("npm ci in %s: %w", dir, err)
				}
			}
			defs = append(defs, serverDef{name: name, argv: []string{opt.node, filepath.Join(dir, "app.mjs")}})
		default:
			cleanup()
			return nil, nil, fmt.Errorf("unknown server %q (roomcast, node)", name)
		}
	}
	return defs, cleanup, nil
}

// findRoot walks up from the working directory to the roomcast module.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/roomcast/roomcast\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the roomcast repository: give -root")
		}
		dir = parent
	}
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"
)

// Config is one run of one scenario. The zero value of each field means the
// default given by its flag.
type Config struct {
	Scenario string // connect, fanout or echo

	URL         string        // the server, http://host:port; a comma-separated list for a cluster
	Path        string        // Socket.IO path
	Clients     int           // connections (fanout: room members, the publisher aside)
	Concurrency int           // connections being opened at once
	Duration    time.Duration // the measured phase of fanout and echo
	Count       int64         // stop after this many broadcasts or echoes (0: no limit)
	Timeout     time.Duration // the whole run, connecting and draining included
	DialTimeout time.Duration // one connection's handshake
	Drain       time.Duration // wait for messages still in flight after the phase
	Progress    time.Duration // period of the progress line (0: none)

	Rooms  int     // fanout: rooms the members are spread over
	Window int     // fanout: broadcasts in flight per room; echo: per client
	Rate   float64 // fanout: broadcasts per second over all rooms (open loop); 0 for closed loop
	Size   int     // bytes of "pad" in each payload

	Hold   time.Duration // connect: how long to hold the connections once open
	Settle time.Duration // connect: wait before reading the server's RSS

	Polling float64 // fraction of the clients on HTTP long-polling (the rest on WebSocket)
	Sources int     // loopback source addresses 127.0.0.1..N (0: as many as N needs)
	NoFile  int     // file limit to raise to (0: what N needs)
	PID     int     // the server's process, for its CPU time and memory (0: none)
	PIDs    []int   // a cluster's processes besides PID, added into its figures

	Log io.Writer // progress lines; nil for none
}

// addFlags registers the flags of every scenario on fs.
func (c *Config) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.URL, "url", "http://127.0.0.1:3000", "the server's base URL; a comma-separated list spreads the clients over a cluster's servers, round robin (the publisher on the first)")
	fs.StringVar(&c.Path, "path", "/socket.io/", "the Socket.IO path")
	fs.IntVar(&c.Clients, "n", 100, "connections (fanout: room members, plus one publisher)")
	fs.IntVar(&c.Concurrency, "c", 100, "connections being opened at once")
	fs.DurationVar(&c.Duration, "d", 10*time.Second, "duration of the measured phase (fanout, echo)")
	fs.Int64Var(&c.Count, "count", 0, "stop after this many broadcasts or echoes (0: no limit)")
	fs.DurationVar(&c.Timeout, "timeout", 15*time.Minute, "bound on the whole run")
	fs.DurationVar(&c.DialTimeout, "dial-timeout", 10*time.Second, "bound on one connection's handshake")
	fs.DurationVar(&c.Drain, "drain", 5*time.Second, "wait for messages in flight after the phase")
	fs.DurationVar(&c.Progress, "progress", time.Second, "period of the progress line on stderr (0: none)")
	fs.IntVar(&c.Rooms, "rooms", 10, "fanout: rooms the members are spread over")
	fs.IntVar(&c.Window, "window", 0, "broadcasts in flight per room (fanout, default 10) or echoes per client (echo, default 1)")
	fs.Float64Var(&c.Rate, "rate", 0, "fanout: open loop at this many broadcasts/s over all rooms (0: closed loop)")
	fs.IntVar(&c.Size, "size", 100, "bytes of pad in each payload")
	fs.DurationVar(&c.Hold, "hold", 0, "connect: hold the connections this long once open")
	fs.DurationVar(&c.Settle, "settle", 2*time.Second, "connect: wait this long before reading the server's RSS")
	fs.Float64Var(&c.Polling, "polling", 0, "fraction of the clients on HTTP long-polling, for a mixed run")
	fs.IntVar(&c.Sources, "sources", 0, "use source addresses 127.0.0.1..127.0.0.N (0: one per 25,000 connections)")
	fs.IntVar(&c.NoFile, "nofile", 0, "raise the file limit to this (0: what -n needs)")
	fs.IntVar(&c.PID, "pid", 0, "the server's pid: report its CPU time and peak RSS")
}

// withDefaults fills the zero fields that have a scenario-dependent default.
func (c Config) withDefaults() Config {
	if c.Path == "" {
		c.Path = "/socket.io/"
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 100
	}
	if c.Window <= 0 {
		c.Window = 1
		if c.Scenario == "fanout" {
			c.Window = 10
		}
	}
	if c.Rooms <= 0 {
		c.Rooms = 1
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 10 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 15 * time.Minute
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Sources == 0 {
		c.Sources = (c.Clients + 24999) / 25000
	}
	return c
}

// validate reports a configuration that cannot run.
func (c Config) validate() error {
	switch c.Scenario {
	case "connect", "fanout", "echo":
	default:
		return fmt.Errorf("unknown scenario %q (connect, fanout, echo)", c.Scenario)
	}
	if c.Clients <= 0 {
		return errors.New("-n must be positive")
	}
	if c.Polling < 0 || c.Polling > 1 {
		return errors.New("-polling is a fraction, 0 to 1")
	}
	if c.Size < 0 || c.Rate < 0 || c.Count < 0 {
		return errors.New("-size, -rate and -count cannot be negative")
	}
	if c.Scenario == "fanout" && c.Rooms > c.Clients {
		return errors.New("-rooms cannot exceed -n: every room needs a member")
	}
	if c.Sources > 254 {
		return errors.New("-sources is at most 254")
	}
	if _, err := c.hosts(); err != nil {
		return err
	}
	return nil
}

// hostPort returns host:port of the (first) URL.
func (c Config) hostPort() (string, error) {
	hosts, err := c.hosts()
	if err != nil {
		return "", err
	}
	return hosts[0], nil
}

// hosts returns host:port of each URL.
func (c Config) hosts() ([]string, error) {
	var hosts []string
	for _, raw := range strings.Split(c.URL, ",") {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil {
			return nil, err
		}
		switch u.Scheme {
		case "http", "ws":
		default:
			return nil, fmt.Errorf("-url %q: only http:// (or ws://) servers", raw)
		}
		host := u.Host
		if u.Port() == "" {
			host = net.JoinHostPort(u.Hostname(), "80")
		}
		hosts = append(hosts, host)
	}
	return hosts, nil
}

// sourceIPs returns the source addresses to spread connections over, or none
// to let the kernel choose: only for a loopback server, since 127.0.0.x cannot
// reach anything else.
func (c Config) sourceIPs() ([]net.IP, error) {
	if c.Sources <= 1 {
		return nil, nil
	}
	host, _ := c.hostPort()
	h, _, _ := net.SplitHostPort(host)
	ip := net.ParseIP(h)
	if h == "localhost" {
		ip = net.IPv4(127, 0, 0, 1)
	}
	if ip == nil || !ip.IsLoopback() || ip.To4() == nil {
		return nil, fmt.Errorf("-sources needs an IPv4 loopback server, not %s", h)
	}
	ips := make([]net.IP, c.Sources)
	for i := range ips {
		ips[i] = net.IPv4(127, 0, 0, byte(i+1))
	}
	return ips, nil
}

// fileLimit is the file limit the run needs: a socket per connection, two
// for a polling one (its pending GET and a POST), and some to spare.
func (c Config) fileLimit() uint64 {
	if c.NoFile > 0 {
		return uint64(c.NoFile)
	}
	return uint64(c.Clients + int(float64(c.Clients)*c.Polling) + 1024)
}

// describe is the command line that reproduces the run, for tables.
func (c Config) describe() string {
	parts := []string{c.Scenario, fmt.Sprintf("-n %d", c.Clients)}
	switch c.Scenario {
	case "fanout":
		parts = append(parts, fmt.Sprintf("-rooms %d", c.Rooms))
		if c.Rate > 0 {
			parts = append(parts, fmt.Sprintf("-rate %g", c.Rate))
		} else {
			parts = append(parts, fmt.Sprintf("-window %d", c.Window))
		}
		parts = append(parts, fmt.Sprintf("-size %d -d %s", c.Size, c.Duration))
	case "echo":
		parts = append(parts, fmt.Sprintf("-window %d -size %d -d %s", c.Window, c.Size, c.Duration))
	case "connect":
		parts = append(parts, fmt.Sprintf("-c %d", c.Concurrency))
		if c.Hold > 0 {
			parts = append(parts, "-hold "+c.Hold.String())
		}
	}
	if c.Count > 0 {
		parts = append(parts, fmt.Sprintf("-count %d", c.Count))
	}
	if c.Polling > 0 {
		parts = append(parts, fmt.Sprintf("-polling %g", c.Polling))
	}
	return strings.Join(parts, " ")
}

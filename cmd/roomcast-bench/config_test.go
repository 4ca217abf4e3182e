package main

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	good := Config{Scenario: "fanout", URL: "http://127.0.0.1:3000", Clients: 10, Rooms: 2}.withDefaults()
	if err := good.validate(); err != nil {
		t.Fatal(err)
	}
	if good.Window != 10 {
		t.Errorf("fanout window defaults to %d", good.Window)
	}
	if w := (Config{Scenario: "echo"}).withDefaults().Window; w != 1 {
		t.Errorf("echo window defaults to %d", w)
	}
	for name, mut := range map[string]func(*Config){
		"scenario":    func(c *Config) { c.Scenario = "flood" },
		"clients":     func(c *Config) { c.Clients = 0 },
		"polling":     func(c *Config) { c.Polling = 1.5 },
		"rooms":       func(c *Config) { c.Rooms = 11 },
		"scheme":      func(c *Config) { c.URL = "https://x" },
		"size":        func(c *Config) { c.Size = -1 },
		"sources max": func(c *Config) { c.Sources = 300 },
	} {
		c := good
		mut(&c)
		if err := c.validate(); err == nil {
			t.Errorf("%s: accepted %+v", name, c)
		}
	}
}

func TestSources(t *testing.T) {
	c := Config{Scenario: "connect", URL: "http://127.0.0.1:3000", Clients: 100000}.withDefaults()
	if c.Sources != 4 {
		t.Errorf("100k connections default to %d sources", c.Sources)
	}
	ips, err := c.sourceIPs()
	if err != nil || len(ips) != 4 || ips[3].String() != "127.0.0.4" {
		t.Errorf("sources %v, %v", ips, err)
	}
	c.URL = "http://10.0.0.1:3000"
	if _, err := c.sourceIPs(); err == nil {
		t.Error("loopback sources for a remote server")
	}
	c.Sources = 1
	if ips, err := c.sourceIPs(); ips != nil || err != nil {
		t.Errorf("one source: %v %v", ips, err)
	}
}

func TestPollingSpread(t *testing.T) {
	for _, p := range []float64{0, 0.1, 0.25, 0.5, 1} {
		r := &runner{cfg: Config{Polling: p}}
		n := 0
		for i := range 1000 {
			if r.isPolling(i) {
				n++
			}
		}
		if want := int(p * 1000); n != want {
			t.Errorf("polling %g: %d of 1000, want %d", p, n, want)
		}
	}
}

func TestDescribe(t *testing.T) {
	c := Config{Scenario: "fanout", Clients: 1000, Rooms: 10, Rate: 500, Size: 100}.withDefaults()
	if got := c.describe(); !strings.Contains(got, "-rate 500") || strings.Contains(got, "-window") {
		t.Errorf("describe = %q", got)
	}
}

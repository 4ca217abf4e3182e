package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/roomcast/roomcast"
	"github.com/roomcast/roomcast/engineio"
)

// config is the command line: flags, each also read from its environment
// variable, ROOMCAST_ and the flag's name in capitals ("-ping-interval" is
// ROOMCAST_PING_INTERVAL). A flag on the command line wins over its variable.
type config struct {
	addr            string
	path            string
	corsOrigins     string
	pingInterval    time.Duration
	pingTimeout     time.Duration
	maxBufferSize   int64
	logLevel        slog.Level
	logFormat       string
	web             string
	clientDir       string
	shutdownTimeout time.Duration
	redisURL        string
	redisAdapter    string

	webSet bool // -web was given, so a missing demo is an error
}

// envName is the environment variable of a flag.
func envName(flagName string) string {
	return "ROOMCAST_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseConfig reads the environment through getenv, then the arguments.
func parseConfig(args []string, getenv func(string) string, output io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("roomcast", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&c.addr, "addr", ":3000", "listen address, host:port; $PORT alone sets the port of the default")
	fs.StringVar(&c.path, "path", "/socket.io/", "path where Socket.IO clients connect")
	fs.StringVar(&c.corsOrigins, "cors-origins", "", `comma-separated origins allowed to connect cross-origin, "*" for any; empty sends no CORS headers`)
	fs.DurationVar(&c.pingInterval, "ping-interval", 25*time.Second, "interval of the server's heartbeat pings")
	fs.DurationVar(&c.pingTimeout, "ping-timeout", 20*time.Second, "how long a client has to answer a ping")
	fs.Int64Var(&c.maxBufferSize, "max-buffer-size", 1e6, "largest message a client may send, in bytes")
	fs.TextVar(&c.logLevel, "log-level", slog.LevelInfo, "log `level`: debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.web, "web", "web", `directory of the demo chat served at / (index.html, app.js, style.css); "off" serves none`)
	fs.StringVar(&c.clientDir, "client-dir", "", `directory of socket.io-client's browser bundles, served at <path>socket.io.js; "off" serves none (default <web>/node_modules/socket.io-client/dist)`)
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long a graceful shutdown may take")
	fs.StringVar(&c.redisURL, "redis-url", "", "Redis URL (redis://host:port/db) to run as one node of a cluster through the Redis adapter, wire-compatible with @socket.io/redis-adapter; empty runs alone on the in-memory adapter")
	fs.StringVar(&c.redisAdapter, "redis-adapter", "classic", "protocol of the Redis adapter: classic (createAdapter) or sharded (createShardedAdapter, Redis 7 sharded pub/sub)")
	fs.Usage = func() {
		fmt.Fprintf(output, "Usage: roomcast [flags]\n\nA standalone Socket.IO v4 server that serves a demo chat at /.\n"+
			"Every flag can be set by its environment variable instead, shown in brackets.\n\n")
		fs.PrintDefaults()
	}
	fs.VisitAll(func(f *flag.Flag) { f.Usage += " [$" + envName(f.Name) + "]" })

	fromEnv := make(map[string]bool)
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		v := getenv(envName(f.Name))
		if v == "" {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			envErr = errors.Join(envErr, fmt.Errorf("%s=%q: %v", envName(f.Name), v, err))
		}
		fromEnv[f.Name] = true
	})
	if envErr != nil {
		return c, envErr
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := fromEnv
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	c.webSet = set["web"]

	if port := getenv("PORT"); port != "" && !set["addr"] {
		c.addr = net.JoinHostPort("", port)
	}
	if c.web == "off" {
		c.web = ""
	}
	if c.redisAdapter != "classic" && c.redisAdapter != "sharded" {
		return c, fmt.Errorf("-redis-adapter %q: want classic or sharded", c.redisAdapter)
	}
	if c.clientDir == "" {
		c.clientDir = filepath.Join(c.web, "node_modules", "socket.io-client", "dist")
	}
	if !strings.HasPrefix(c.path, "/") {
		c.path = "/" + c.path
	}
	if !strings.HasSuffix(c.path, "/") {
		c.path += "/"
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		return c, fmt.Errorf("-log-format %q: want text or json", c.logFormat)
	}
	if c.pingInterval <= 0 || c.pingTimeout <= 0 || c.shutdownTimeout <= 0 || c.maxBufferSize <= 0 {
		return c, errors.New("-ping-interval, -ping-timeout, -shutdown-timeout and -max-buffer-size must be positive")
	}
	return c, nil
}

// logger returns the logger the flags ask for, writing to w.
func (c config) logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.logLevel}
	if c.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// options returns the server's options.
func (c config) options(logger *slog.Logger) roomcast.Options {
	opts := roomcast.Options{
		Path:              c.path,
		PingInterval:      c.pingInterval,
		PingTimeout:       c.pingTimeout,
		MaxHTTPBufferSize: c.maxBufferSize,
		Logger:            logger,
	}
	if c.corsOrigins != "" {
		var origins []string
		for o := range strings.SplitSeq(c.corsOrigins, ",") {
			if o = strings.TrimSpace(o); o != "" {
				origins = append(origins, o)
			}
		}
		if len(origins) > 0 { // an empty list would allow every origin
			opts.CORS = &engineio.CORSOptions{Origins: origins}
		}
	}
	if c.clientDir != "off" {
		opts.ServeClient = os.DirFS(c.clientDir)
	}
	return opts
}

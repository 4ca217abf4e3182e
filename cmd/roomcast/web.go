package main

import (
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
)

// demoFiles are the demo's routes and the files of -web they serve; nothing
// else of the directory (its package.json, its node_modules) is served.
var demoFiles = map[string]string{
	"/{$}":       "index.html",
	"/app.js":    "app.js",
	"/style.css": "style.css",
}

// registerDemo serves the demo chat from cfg.web at /, and reports whether
// it does. A missing directory is an error when -web was given, and a
// warning when it is the default (the binary runs away from the repository).
func registerDemo(mux *http.ServeMux, cfg config, logger *slog.Logger) (bool, error) {
	if cfg.web == "" {
		return false, nil
	}
	if _, err := os.Stat(filepath.Join(cfg.web, "index.html")); err != nil {
		if cfg.webSet {
			return false, err
		}
		logger.Warn("roomcast: no demo at / (set -web to the repository's web directory)", "err", err)
		return false, nil
	}
	fsys := os.DirFS(cfg.web)
	for route, name := range demoFiles {
		mux.HandleFunc("GET "+route, func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Cache-Control", "no-cache") // revalidate: edits show on reload
			h.Set("Content-Security-Policy", "default-src 'self'")
			h.Set("X-Content-Type-Options", "nosniff")
			http.ServeFileFS(w, r, fsys, name)
		})
	}
	// The demo has no icon; say so rather than answer 404 to every browser.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	if cfg.path != "/socket.io/" {
		logger.Warn("roomcast: the demo page connects to /socket.io/, not to -path", "path", cfg.path)
	}
	return true, nil
}

// checkClient warns when the browser client is not where it is served
// from: requests for it will be answered 404 until it is installed.
func checkClient(cfg config, logger *slog.Logger) {
	if cfg.clientDir == "off" {
		return
	}
	_, err := fs.Stat(os.DirFS(cfg.clientDir), "socket.io.js")
	if errors.Is(err, fs.ErrNotExist) {
		logger.Warn("roomcast: socket.io-client is not installed: run `npm ci` in web/ (or set -client-dir)",
			"client-dir", cfg.clientDir)
	}
}

package roomcast

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// clientBundle matches the files of socket.io-client's dist/ folder that the
// Node.js server serves: socket.io.js, socket.io.min.js,
// socket.io.msgpack.min.js, socket.io.esm.min.js and their source maps.
var clientBundle = regexp.MustCompile(`^socket\.io(\.msgpack|\.esm)?(\.min)?\.js(\.map)?$`)

// serveClient answers r from Options.ServeClient when it is a GET or HEAD of
// a client bundle under Options.Path, and reports whether it did. Every
// other request is left to Engine.IO.
//
// As the Node.js server does, the bundle is sent with "Cache-Control: public,
// max-age=0" and an ETag, so that browsers revalidate it and get 304 Not
// Modified while it is unchanged. The ETag is a digest of the file, so it
// changes when the npm package is upgraded. The file is read on every
// request: installing or upgrading the package needs no restart, and a
// missing file is a 404.
func (srv *Server) serveClient(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	name, ok := strings.CutPrefix(r.URL.Path, strings.TrimSuffix(srv.opts.Path, "/")+"/")
	if !ok || !clientBundle.MatchString(name) {
		return false
	}
	data, err := fs.ReadFile(srv.opts.ServeClient, name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			srv.opts.Logger.Warn("roomcast: cannot read the client bundle", "file", name, "err", err)
		}
		http.NotFound(w, r)
		return true
	}
	sum := sha256.Sum256(data)
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=0")
	if strings.HasSuffix(name, ".map") {
		h.Set("Content-Type", "application/json; charset=utf-8")
	} else {
		h.Set("Content-Type", "application/javascript; charset=utf-8")
	}
	h.Set("ETag", `"`+base64.RawURLEncoding.EncodeToString(sum[:12])+`"`)
	// ServeContent answers If-None-Match (strong or weak) and Range requests.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
	return true
}

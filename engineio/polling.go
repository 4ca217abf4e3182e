package engineio

import (
	"compress/flate"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// upgradePollDelay is how long a GET that waits while an upgrade is under way
// (pending when the probe came, or sent later) waits before it is answered
// with a noop, as the reference server's 100 ms upgrade check does; the wait
// lets an upgrade that completes meanwhile refuse the GET instead.
const upgradePollDelay = 100 * time.Millisecond

// servePoll answers a long-polling GET: at once if frames are queued,
// otherwise when some are, or when the session closes or upgrades.
func (s *Session) servePoll(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.polling {
		s.mu.Unlock()
		// The pending GET answers the close packet; this one is refused.
		s.closeNow(ReasonTransportError, errPollOverlap)
		s.srv.refuse(w, r, &requestError{code: codeBadRequest})
		return
	}
	s.polling = true
	s.mu.Unlock()

	var upgradeWait <-chan time.Time
	release := false // the upgrade check's delay is over: answer a noop
	for {
		s.mu.Lock()
		frames, final, refused := s.pollTakeLocked(release)
		if frames == nil && !refused && s.probed && upgradeWait == nil {
			t := time.NewTimer(upgradePollDelay)
			defer t.Stop()
			upgradeWait = t.C
		}
		if frames != nil || refused {
			s.polling = false
		}
		s.mu.Unlock()

		if refused {
			s.srv.refuse(w, r, &requestError{code: codeBadRequest})
			return
		}
		if frames != nil {
			s.srv.writeHeaders(w, r, false)
			err := writePollResponse(w, r, &s.srv.opts, encodePayload(frames))
			s.giveBack(frames)
			switch {
			case final:
				s.closeNow(s.reasonNow(), nil)
			case err != nil:
				s.closeNow(ReasonTransportError, err)
			}
			return
		}

		select {
		case <-s.pollWake:
		case <-upgradeWait:
			release = true
		case <-r.Context().Done():
			s.mu.Lock()
			s.polling = false
			s.mu.Unlock()
			s.closeNow(ReasonTransportClose, errPollAborted)
			return
		}
	}
}

func (s *Session) reasonNow() Reason {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason
}

// pollTakeLocked decides what a pending GET answers now: frames to write
// (final when they end a graceful close), a refusal, or nothing yet; with
// release (the upgrade check's delay is over), a noop rather than nothing.
func (s *Session) pollTakeLocked(release bool) (frames []Frame, final, refused bool) {
	switch {
	case s.state == stateClosed:
		if s.reason == ReasonTransportClose {
			return []Frame{frameNoop}, false, false
		}
		return []Frame{frameClose}, false, false
	case s.transport != Polling:
		// The session upgraded while this GET waited.
		return nil, false, true
	case s.holds > 0:
		// The queue waits for Release; the upgrade check's delay need not.
		if release {
			return []Frame{frameNoop}, false, false
		}
		return nil, false, false
	case len(s.queue) > 0:
		// During a graceful close the close packet goes in the next response,
		// not this one: clients act on a close packet before they hand the
		// packets that came with it to their application.
		return s.takeLocked(), false, false
	case s.state == stateClosing:
		return []Frame{frameClose}, true, false
	case release:
		return []Frame{frameNoop}, false, false
	}
	return nil, false, false
}

// servePost reads a polling POST: a payload of packets from the client.
func (s *Session) servePost(w http.ResponseWriter, r *http.Request) {
	opts := &s.srv.opts
	s.mu.Lock()
	if s.posting {
		s.mu.Unlock()
		s.closeNow(ReasonTransportError, errPostOverlap)
		s.srv.refuse(w, r, &requestError{code: codeBadRequest})
		return
	}
	s.posting = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.posting = false
		s.mu.Unlock()
	}()

	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/octet-stream") {
		// v4 clients send binary as base64 text; raw binary bodies are v3's.
		s.closeNow(ReasonTransportError, errors.New("engineio: binary POST body"))
		s.srv.refuse(w, r, &requestError{code: codeBadRequest})
		return
	}
	if r.ContentLength > opts.MaxBufferSize {
		s.tooLarge(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, opts.MaxBufferSize+1))
	if err != nil {
		s.closeNow(ReasonTransportError, err)
		s.srv.refuse(w, r, &requestError{code: codeBadRequest})
		return
	}
	if int64(len(body)) > opts.MaxBufferSize {
		s.tooLarge(w, r)
		return
	}
	// Packets are handled as they are decoded, as the reference server does:
	// a body of many tiny packets costs no more memory than the body itself.
	err = decodePayload(body, func(p packet) error {
		s.onPacket(p)
		return nil
	})
	// The work the packets left (see Deferrer) is taken before the response
	// is written: the client sends its next POST, or the upgrade packet over
	// WebSocket, once it has the response, and the next reader must find
	// this one done. It runs on a goroutine of its own, since it may wait
	// for what the client sends next.
	s.goDeferred()
	if err != nil {
		s.closeNow(ReasonParseError, err)
		s.srv.refuse(w, r, &requestError{code: codeBadRequest})
		return
	}
	s.srv.writeHeaders(w, r, false)
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", "2")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, "ok")
}

func (s *Session) tooLarge(w http.ResponseWriter, r *http.Request) {
	s.closeNow(ReasonTransportError, ErrPayloadTooLarge)
	s.srv.writeHeaders(w, r, false)
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusRequestEntityTooLarge)
}

// writePollResponse writes a polling payload, compressed when the client
// accepts it and the payload is large enough to gain from it.
func writePollResponse(w http.ResponseWriter, r *http.Request, opts *Options, body []byte) error {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	if !opts.DisableHTTPCompression && len(body) >= opts.HTTPCompressionThreshold {
		if enc := acceptedEncoding(r.Header.Get("Accept-Encoding")); enc != "" {
			h.Set("Content-Encoding", enc)
			h.Add("Vary", "Accept-Encoding")
			w.WriteHeader(http.StatusOK)
			var zw io.WriteCloser
			if enc == "gzip" {
				zw = gzip.NewWriter(w)
			} else {
				zw, _ = flate.NewWriter(w, flate.DefaultCompression)
			}
			if _, err := zw.Write(body); err != nil {
				return err
			}
			return zw.Close()
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(body)
	return err
}

// acceptedEncoding picks gzip or deflate from an Accept-Encoding header.
func acceptedEncoding(accept string) string {
	for _, part := range strings.Split(accept, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.Contains(params, "q=0") && !strings.Contains(params, "q=0.") {
			continue
		}
		switch strings.TrimSpace(name) {
		case "gzip":
			return "gzip"
		case "deflate":
			return "deflate"
		}
	}
	return ""
}

package parser

import "encoding/json"

// A placeholder is how a binary attachment appears inside a packet's JSON:
// {"_placeholder":true,"num":N}. Following the reference decoder, any object
// whose "_placeholder" member is true is a placeholder (other members are
// ignored, and for a repeated key the last one counts, as with JSON.parse),
// and it must carry a "num" that indexes an attachment. We are stricter
// about num: it must be a plain non-negative integer literal such as 0 or 12,
// not 1.0 or 1e0, because only that form is ever sent.

// phObject is an open object that has a "_placeholder" or "num" member.
type phObject struct {
	depth  int  // nesting depth of the object
	marked bool // its "_placeholder" member is true
	num    int  // its "num" as an attachment index, -1 when absent or invalid
}

// phTracker finds placeholders during a walk. Only objects that have one of
// the two keys get an entry, so ordinary payloads cost no entries at all.
// The first few entries live in an array inside the tracker so that a
// tracker on the stack allocates nothing for placeholders nested up to that
// depth (a slice pointing into its own array would force it to the heap).
type phTracker struct {
	n     int         // open entries
	first [4]phObject // entries 0..3
	more  []phObject  // entries 4..n-1
}

func (t *phTracker) top() *phObject {
	if t.n <= len(t.first) {
		return &t.first[t.n-1]
	}
	return &t.more[t.n-1-len(t.first)]
}

// member records s if it is a "_placeholder" or "num" member of an object;
// limit is the number of attachments.
func (t *phTracker) member(data []byte, s span, limit int) {
	if s.key == nil {
		return
	}
	isMark := keyIs(s.key, "_placeholder")
	if !isMark && !keyIs(s.key, "num") {
		return
	}
	d := s.depth - 1 // the depth of the object holding this member
	if t.n == 0 || t.top().depth != d {
		o := phObject{depth: d, num: -1}
		if t.n < len(t.first) {
			t.first[t.n] = o
		} else {
			t.more = append(t.more[:t.n-len(t.first)], o)
		}
		t.n++
	}
	o := t.top()
	if isMark {
		o.marked = s.kind == kindTrue
	} else {
		o.num = -1
		if s.kind == kindNumber {
			o.num = attachmentIndex(data[s.start:s.end], limit)
		}
	}
}

// closed must be called for every object as it ends. It reports whether the
// object was a placeholder and its attachment index (-1 when invalid).
//
// Objects at one depth never overlap, so the innermost open entry, if it has
// the object's depth, belongs to that object.
func (t *phTracker) closed(s span) (marked bool, num int) {
	if t.n == 0 || t.top().depth != s.depth {
		return false, 0
	}
	o := *t.top()
	t.n--
	return o.marked, o.num
}

// attachmentIndex parses a JSON number literal as an index below limit, or
// returns -1.
func attachmentIndex(raw []byte, limit int) int {
	if len(raw) == 0 {
		return -1
	}
	n := 0
	for _, c := range raw {
		if c < '0' || c > '9' {
			return -1
		}
		if n = n*10 + int(c-'0'); n >= limit {
			return -1
		}
	}
	return n
}

// ResolvePlaceholder returns attachments[N] if raw is a placeholder object
// {"_placeholder":true,"num":N} (any key order or whitespace) whose N indexes
// attachments. It is how a typed argument binder turns a placeholder back into
// bytes; the result shares memory with attachments.
func ResolvePlaceholder(raw json.RawMessage, attachments [][]byte) ([]byte, bool) {
	if i := skipSpace(raw, 0); i >= len(raw) || raw[i] != '{' {
		return nil, false
	}
	var ph phTracker
	marked, num := false, -1
	err := walk(raw, func(s span) error {
		switch s.depth {
		case 1:
			ph.member(raw, s, len(attachments))
		case 0:
			marked, num = ph.closed(s)
		}
		return nil
	})
	if err != nil || !marked || num < 0 {
		return nil, false
	}
	return attachments[num], true
}

package parser

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of arrays and objects accepted in a payload
// (the top-level array counts as 1). JavaScript peers never send anything near
// it; the limit only bounds the memory a hostile message can make the scanner
// use, since the scanner keeps one frame per open container.
const MaxDepth = 1000

// kind is the type of a JSON value.
type kind uint8

const (
	kindNull kind = iota
	kindFalse
	kindTrue
	kindNumber
	kindString
	kindArray
	kindObject
)

// span is one complete JSON value found by walk.
type span struct {
	kind       kind
	depth      int    // 0 for the top-level value, 1 for its elements or members, ...
	start, end int    // data[start:end] is the value, without surrounding whitespace
	key        []byte // the raw member name (quotes, escapes) in an object; nil elsewhere
}

// frame is an open array or object.
type frame struct {
	obj   bool
	start int
	key   []byte // the key of the container itself in its parent object
}

// errStop lets a visitor end a walk early without reporting an error.
var errStop = errors.New("stop")

// walk checks that data is exactly one JSON value, optionally surrounded by
// whitespace, that strings are valid UTF-8 and that nesting stays within
// MaxDepth. It calls visit (if not nil) for every complete value in the order
// values end: elements before their container, so the first value reported at
// depth 1 is the first element. A visitor error stops the walk and is
// returned, except errStop, which makes walk return nil.
//
// The walk keeps an explicit stack instead of recursing, so input nested a
// million levels deep costs one error, not a goroutine stack.
func walk(data []byte, visit func(span) error) error {
	if err := walkValues(data, visit); err != errStop {
		return err
	}
	return nil
}

func walkValues(data []byte, visit func(span) error) error {
	var inline [16]frame
	stack := inline[:0]
	var key []byte // the key of the value about to be read
	i := skipSpace(data, 0)
	for {
		// Read one value starting at i.
		if i >= len(data) {
			return errAt(i, ErrInvalidJSON, "unexpected end of JSON")
		}
		var s span
		switch c := data[i]; c {
		case '[', '{':
			if len(stack) >= MaxDepth {
				return errAt(i, ErrTooDeep, "JSON nested deeper than MaxDepth")
			}
			stack = append(stack, frame{obj: c == '{', start: i, key: key})
			i = skipSpace(data, i+1)
			if i < len(data) && (data[i] == ']' && c == '[' || data[i] == '}' && c == '{') {
				i++
				break // empty container: close it below
			}
			var err error
			if key, i, err = readKey(data, i, c == '{'); err != nil {
				return err
			}
			continue
		case '"':
			end, err := scanString(data, i)
			if err != nil {
				return err
			}
			s = span{kind: kindString, start: i, end: end}
		case 't':
			s = span{kind: kindTrue, start: i, end: i + 4}
			if !hasLiteral(data, i, "true") {
				return errAt(i, ErrInvalidJSON, "invalid literal")
			}
		case 'f':
			s = span{kind: kindFalse, start: i, end: i + 5}
			if !hasLiteral(data, i, "false") {
				return errAt(i, ErrInvalidJSON, "invalid literal")
			}
		case 'n':
			s = span{kind: kindNull, start: i, end: i + 4}
			if !hasLiteral(data, i, "null") {
				return errAt(i, ErrInvalidJSON, "invalid literal")
			}
		default:
			end, err := scanNumber(data, i)
			if err != nil {
				return err
			}
			s = span{kind: kindNumber, start: i, end: end}
		}
		if s.end != 0 { // a scalar was read
			s.depth, s.key = len(stack), key
			i = s.end
			if err := report(visit, s); err != nil {
				return err
			}
		} else { // an empty container was read: i is just past its closer
			if err := closeTop(&stack, i, visit); err != nil {
				return err
			}
		}
		// Consume separators and closers until another value is due.
		for {
			i = skipSpace(data, i)
			if len(stack) == 0 {
				if i != len(data) {
					return errAt(i, ErrInvalidJSON, "data after the JSON value")
				}
				return nil
			}
			if i >= len(data) {
				return errAt(i, ErrInvalidJSON, "unexpected end of JSON")
			}
			top := stack[len(stack)-1]
			if data[i] == ',' {
				var err error
				if key, i, err = readKey(data, skipSpace(data, i+1), top.obj); err != nil {
					return err
				}
				break
			}
			if top.obj && data[i] != '}' || !top.obj && data[i] != ']' {
				return errAt(i, ErrInvalidJSON, "expected ',' or closing bracket")
			}
			i++
			if err := closeTop(&stack, i, visit); err != nil {
				return err
			}
		}
	}
}

// closeTop pops the innermost container, which ends just before end, and
// reports it.
func closeTop(stack *[]frame, end int, visit func(span) error) error {
	f := (*stack)[len(*stack)-1]
	*stack = (*stack)[:len(*stack)-1]
	k := kindArray
	if f.obj {
		k = kindObject
	}
	return report(visit, span{kind: k, depth: len(*stack), start: f.start, end: end, key: f.key})
}

func report(visit func(span) error, s span) error {
	if visit == nil {
		return nil
	}
	return visit(s)
}

// readKey reads `"name" :` when the next value is an object member, and
// returns the raw key and the offset of the value. For array elements it
// returns a nil key and i unchanged.
func readKey(data []byte, i int, obj bool) ([]byte, int, error) {
	if !obj {
		return nil, i, nil
	}
	if i >= len(data) || data[i] != '"' {
		return nil, i, errAt(i, ErrInvalidJSON, "expected object key")
	}
	end, err := scanString(data, i)
	if err != nil {
		return nil, i, err
	}
	j := skipSpace(data, end)
	if j >= len(data) || data[j] != ':' {
		return nil, j, errAt(j, ErrInvalidJSON, "expected ':' after object key")
	}
	return data[i:end], skipSpace(data, j+1), nil
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func hasLiteral(data []byte, i int, lit string) bool {
	return len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit
}

// scanString returns the offset just past the string starting at data[i]
// (which is '"'). It rejects control characters, bad escapes and invalid
// UTF-8: payloads are forwarded verbatim to other clients, and a browser
// closes a WebSocket whose text frame is not UTF-8.
func scanString(data []byte, i int) (int, error) {
	start := i
	i++
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			if i+1 >= len(data) {
				return 0, errAt(i, ErrInvalidJSON, "unterminated string")
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(data)-i < 6 || !isHex(data[i+2]) || !isHex(data[i+3]) || !isHex(data[i+4]) || !isHex(data[i+5]) {
					return 0, errAt(i, ErrInvalidJSON, "invalid \\u escape")
				}
				i += 6
			default:
				return 0, errAt(i, ErrInvalidJSON, "invalid escape")
			}
		case c < 0x20:
			return 0, errAt(i, ErrInvalidJSON, "control character in string")
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				return 0, errAt(i, ErrInvalidJSON, "invalid UTF-8 in string")
			}
			i += size
		}
	}
	return 0, errAt(start, ErrInvalidJSON, "unterminated string")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// scanNumber returns the offset just past the number starting at data[i]:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(data []byte, i int) (int, error) {
	start := i
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && '1' <= data[i] && data[i] <= '9':
		i = skipDigits(data, i)
	default:
		return 0, errAt(start, ErrInvalidJSON, "invalid character")
	}
	if i < len(data) && data[i] == '.' {
		j := skipDigits(data, i+1)
		if j == i+1 {
			return 0, errAt(i, ErrInvalidJSON, "invalid number")
		}
		i = j
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		j := skipDigits(data, i)
		if j == i {
			return 0, errAt(i, ErrInvalidJSON, "invalid number")
		}
		i = j
	}
	return i, nil
}

func skipDigits(data []byte, i int) int {
	for i < len(data) && '0' <= data[i] && data[i] <= '9' {
		i++
	}
	return i
}

// SplitArray splits a raw JSON array into its raw elements without
// re-marshalling: each element is a sub-slice of raw, whitespace trimmed. The
// whole of raw is validated (see MaxDepth); the scan is iterative, so any
// nesting depth is safe.
func SplitArray(raw []byte) ([]json.RawMessage, error) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return nil, errAt(i, ErrInvalidJSON, "not a JSON array")
	}
	out := make([]json.RawMessage, 0, 4)
	err := walk(raw, func(s span) error {
		if s.depth == 1 {
			out = append(out, raw[s.start:s.end:s.end])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// unquote returns the value of the JSON string literal raw (quotes included).
// Literals without escapes, by far the common case, cost one string
// conversion; escaped ones go through encoding/json, which knows surrogates.
func unquote(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	for _, c := range body {
		if c == '\\' {
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return "", false
			}
			return s, true
		}
	}
	return string(body), true
}

// keyIs reports whether the raw JSON string key decodes to name, without
// allocating unless the key contains escapes.
func keyIs(key []byte, name string) bool {
	if len(key) == len(name)+2 && string(key[1:len(key)-1]) == name {
		return true
	}
	// An escape is longer than the character it stands for, and an ASCII
	// character takes at most 6 bytes (\u005f): outside that range the key
	// cannot spell name, and is not worth decoding.
	if n := len(key) - 2; n <= len(name) || n > 6*len(name) || bytes.IndexByte(key, '\\') < 0 {
		return false
	}
	s, ok := unquote(key)
	return ok && s == name
}

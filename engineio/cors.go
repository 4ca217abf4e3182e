package engineio

import (
	"net/http"
	"strconv"
	"strings"
)

var defaultCORSMethods = "GET,HEAD,PUT,PATCH,POST,DELETE"

// apply writes the CORS headers for r and reports whether r was a preflight,
// which it answers (204) in full.
func (c *CORSOptions) apply(w http.ResponseWriter, r *http.Request) (answered bool) {
	h := w.Header()
	origin := r.Header.Get("Origin")
	allowed := c.allowOrigin(origin)
	if allowed != "" {
		h.Set("Access-Control-Allow-Origin", allowed)
		if allowed != "*" {
			h.Add("Vary", "Origin")
		}
		if c.Credentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
	}
	if r.Method != http.MethodOptions {
		return false
	}
	methods := defaultCORSMethods
	if len(c.Methods) > 0 {
		methods = strings.Join(c.Methods, ",")
	}
	h.Set("Access-Control-Allow-Methods", methods)
	if len(c.Headers) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(c.Headers, ","))
	} else if asked := r.Header.Get("Access-Control-Request-Headers"); asked != "" {
		h.Set("Access-Control-Allow-Headers", asked)
		h.Add("Vary", "Access-Control-Request-Headers")
	}
	if c.MaxAge > 0 {
		h.Set("Access-Control-Max-Age", strconv.Itoa(int(c.MaxAge.Seconds())))
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
	return true
}

// allowOrigin returns the value of Access-Control-Allow-Origin for origin,
// or "" when the origin is not allowed.
func (c *CORSOptions) allowOrigin(origin string) string {
	if len(c.Origins) == 0 {
		if origin == "" {
			return "*"
		}
		return origin
	}
	for _, o := range c.Origins {
		if o == "*" {
			if c.Credentials && origin != "" {
				return origin // browsers refuse "*" with credentials
			}
			return "*"
		}
		if o == origin {
			return origin
		}
	}
	return ""
}

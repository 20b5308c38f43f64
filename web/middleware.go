package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/roles"
	"github.com/jingdesk/jingdesk/internal/secret"
)

// contentSecurityPolicy allows only our own scripts and styles: no inline
// script, no eval, no inline style, no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if c.Request().TLS != nil {
			// Served over TLS: browsers keep to https for a year (not
			// includeSubDomains: other intranet hosts are not ours to decide).
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		return next(c)
	}
}

// requestIDAndLog gives every request an id (kept from a trusted proxy's
// X-Request-ID when it looks sane), a logger carrying it, and one access log line.
func (k *kit) requestIDAndLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !saneRequestID(id) {
			id = secret.Token(9)
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		logger := k.logger.With("request_id", id)
		c.Set(ctxLogger, logger)
		err := next(c)
		gone := clientGone(c, err)
		switch {
		case gone:
			// Nobody is left to read an answer, and nothing failed here:
			// recorded (and counted by /metrics) as 499, not as an error.
			c.Response().Status = StatusClientClosedRequest
		case err != nil:
			c.Error(err) // renders the error now, so the status below is the real one
		}
		status := c.Response().Status
		level := slog.LevelInfo
		if c.Request().URL.Path == "/healthz" || strings.HasPrefix(c.Request().URL.Path, "/static/") {
			level = slog.LevelDebug
		}
		attrs := []any{"method", c.Request().Method, "path", loggedPath(c), "status", status,
			"duration_ms", float64(time.Since(start).Microseconds()) / 1000, "user", usernameOf(c)}
		if gone && err != nil {
			attrs = append(attrs, "client_gone", err.Error())
		}
		logger.Log(c.Request().Context(), level, "request", attrs...)
		return nil
	}
}

// StatusClientClosedRequest is the status a request is recorded with when
// its client went away before the answer was written (nginx's 499): the
// client's choice, not a failure of the server.
const StatusClientClosedRequest = 499

// clientGone reports whether the client of c went away: it closed the
// connection (the request's context is cancelled; the handler's error is
// then usually "context canceled" or SQLite's "interrupted"), or writing
// the answer failed on a broken connection.
func clientGone(c echo.Context, err error) bool {
	if errors.Is(c.Request().Context().Err(), context.Canceled) {
		return true
	}
	return err != nil && (errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET))
}

// countRequests feeds /metrics: requests per route pattern (not the raw
// path: ids would explode the series), method and status, and their
// latency. It runs outermost, after the log middleware rendered any error,
// so the status is the one the client got.
func (m *httpMetrics) countRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		m.observe(c.Path(), c.Request().Method, c.Response().Status, time.Since(start))
		return err
	}
}

// secretRoutes are the routes whose path holds a secret (the webhook's
// stands in for a session): logs show their route pattern instead.
var secretRoutes = map[string]bool{webhookPath: true}

// loggedPath is the request's path as logs may show it: the route
// pattern for a route with a secret in its path, and for any path under
// the webhook's prefix that matched no route (a mistyped webhook URL
// still holds the secret), only that prefix.
func loggedPath(c echo.Context) string {
	if secretRoutes[c.Path()] {
		return c.Path()
	}
	if p := c.Request().URL.Path; strings.HasPrefix(p, webhookPrefix) {
		return webhookPrefix + "…"
	}
	return c.Request().URL.Path
}

func saneRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func usernameOf(c echo.Context) string {
	if u := currentUser(c); u != nil {
		return u.Username
	}
	return ""
}

// recoverPanics turns a handler panic into a logged 500 instead of a dropped connection.
func recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

// requireAccess enforces a route's access level. Anonymous visitors are
// sent to the sign-in page (htmx gets 401, since a redirect would swap the
// login page into a fragment); a signed-in user without the role gets 403.
func requireAccess(a Access) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if a == Public {
			return next
		}
		return func(c echo.Context) error {
			u := currentUser(c)
			if u == nil {
				if isHTMX(c) {
					return echo.NewHTTPError(http.StatusUnauthorized, errSignInNeeded)
				}
				return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
			}
			if !roles.AtLeast(u.Role, a.Role()) {
				return echo.NewHTTPError(http.StatusForbidden, errForbidden)
			}
			return next(c)
		}
	}
}

func isHTMX(c echo.Context) bool { return c.Request().Header.Get("HX-Request") == "true" }

// safeNext keeps post-login redirects on this site: a local absolute path only.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

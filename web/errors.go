package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/templates/components"
	errpage "github.com/jingdesk/jingdesk/templates/errors"
)

// Sentinel reasons carried in echo.HTTPError.Message; each maps to a
// translated sentence. Handlers never put Go error text in front of users.
type reason string

const (
	errCSRF         reason = "error.csrf"
	errSignInNeeded reason = "error.sign_in_needed"
	errForbidden    reason = "error.forbidden"
	errNotFound     reason = "error.not_found"
	errBadRequest   reason = "error.bad_request"
	errInternal     reason = "error.internal"
)

// handleError is echo's central error handler: it logs (5xx at Error, 4xx
// at Warn) and shows an error page, or for htmx a toast.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, why := classify(err)
	logger := s.log(c)
	if status >= 500 {
		logger.Error("request failed", "status", status, "error", err)
	} else if status != http.StatusNotFound {
		logger.Warn("request refused", "status", status, "error", err)
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(status)
		return
	}
	if state(c) == nil || state(c).loc == nil {
		// Failed before the session was loaded: no language known yet.
		c.String(status, http.StatusText(status))
		return
	}
	msg := t(c, string(why))
	reqID := c.Response().Header().Get(echo.HeaderXRequestID)
	var renderErr error
	if isHTMX(c) {
		c.Response().Header().Set("HX-Retarget", "#toasts")
		c.Response().Header().Set("HX-Reswap", "beforeend")
		renderErr = s.renderFragment(c, status, components.Toast(msg, reqID))
	} else {
		v := errpage.View{Status: status, Title: t(c, "error.title."+statusGroup(status)), Message: msg, RequestID: reqID}
		renderErr = s.render(c, status, View{Title: v.Title, Body: errpage.Page(v), Bare: currentUser(c) == nil})
	}
	if renderErr != nil {
		logger.Error("render error page", "error", renderErr)
		c.String(status, http.StatusText(status))
	}
}

// classify maps an error to a status and the reason shown to the user.
func classify(err error) (int, reason) {
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		if r, ok := he.Message.(reason); ok {
			return he.Code, r
		}
		switch he.Code {
		case http.StatusNotFound, http.StatusMethodNotAllowed:
			return http.StatusNotFound, errNotFound
		case http.StatusForbidden:
			return he.Code, errForbidden
		case http.StatusUnauthorized:
			return he.Code, errSignInNeeded
		}
		if he.Code < 500 {
			return he.Code, errBadRequest
		}
		return he.Code, errInternal
	case errors.Is(err, db.ErrNotFound):
		return http.StatusNotFound, errNotFound
	}
	return http.StatusInternalServerError, errInternal
}

func statusGroup(status int) string {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusTooManyRequests:
		return strconv.Itoa(status)
	}
	if status >= 500 {
		return "500"
	}
	return "400"
}

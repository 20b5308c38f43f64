package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
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
// at Warn) and shows an error page, or for htmx a toast. It is where an
// error a handler returns reaches the user: a refusal (msg.Error) is shown
// with its own sentence and the status of its kind (see classify).
func (k *kit) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, why := classify(err)
	logger := k.log(c)
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
	text := state(c).loc.Message(why)
	reqID := c.Response().Header().Get(echo.HeaderXRequestID)
	var renderErr error
	if isHTMX(c) {
		c.Response().Header().Set("HX-Retarget", "#toasts")
		c.Response().Header().Set("HX-Reswap", "beforeend")
		renderErr = k.renderFragment(c, status, components.Toast(text, reqID))
	} else {
		v := errpage.View{Status: status, Title: t(c, "error.title."+statusGroup(status)), Message: text, RequestID: reqID}
		renderErr = k.render(c, status, View{Title: v.Title, Body: errpage.Page(v), Bare: currentUser(c) == nil})
	}
	if renderErr != nil {
		logger.Error("render error page", "error", renderErr)
		c.String(status, http.StatusText(status))
	}
}

// classify maps an error to a status and the sentence shown to the user:
// an error that carries its own (a service's refusal, a platform error)
// says it; any other error is a reason of this package, never Go's text.
func classify(err error) (int, msg.Message) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if he.Code == http.StatusMethodNotAllowed {
			return http.StatusNotFound, msg.New(string(errNotFound))
		}
		return he.Code, msg.New(string(httpReason(he)))
	}
	if r, ok := msg.AsError(err); ok {
		return refusalStatus(r.Kind), r.Msg
	}
	var carrier msg.Carrier
	switch {
	case errors.As(err, &carrier):
		// The platform failed or answered what the console cannot use:
		// its sentence names the endpoint and the request id.
		return http.StatusBadGateway, carrier.Message()
	case errors.Is(err, db.ErrNotFound):
		return http.StatusNotFound, msg.New(string(errNotFound))
	}
	return http.StatusInternalServerError, msg.New(string(errInternal))
}

// httpReason is the reason of an echo error: the one a handler gave, or
// one by its status (echo's own 404s and 405s, say).
func httpReason(he *echo.HTTPError) reason {
	if r, ok := he.Message.(reason); ok {
		return r
	}
	switch he.Code {
	case http.StatusNotFound:
		return errNotFound
	case http.StatusForbidden:
		return errForbidden
	case http.StatusUnauthorized:
		return errSignInNeeded
	}
	if he.Code < 500 {
		return errBadRequest
	}
	return errInternal
}

// refusalStatus is the HTTP status of a refusal's kind.
func refusalStatus(k msg.Kind) int {
	switch k {
	case msg.Invalid:
		return http.StatusUnprocessableEntity
	case msg.Conflict:
		return http.StatusConflict
	case msg.Forbidden:
		return http.StatusForbidden
	case msg.NotFound:
		return http.StatusNotFound
	case msg.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

// userMessage is err as the user reads it, when err carries its sentence
// (a service's refusal, msg.Error, or a platform error): the one place
// such an error becomes words, for a handler that shows it in place (a
// form's message, a row's notice) rather than as an error page. ok is
// false for any other error, which the handler returns (a 500).
func userMessage(c echo.Context, err error) (text string, ok bool) {
	var carrier msg.Carrier
	if err == nil || !errors.As(err, &carrier) {
		return "", false
	}
	return state(c).loc.Message(carrier.Message()), true
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

// formRefusal is a refusal as a form shows it in place: its sentence,
// the form field it is about ("" for the whole form), and the status to
// answer with (its kind's; a platform error's 502).
type formRefusal struct {
	Text, Field string
	Status      int
}

// refusalInForm is err as a form shows it; ok is false for an error that
// carries no sentence of its own (the handler returns it).
func refusalInForm(c echo.Context, err error) (formRefusal, bool) {
	text, ok := userMessage(c, err)
	if !ok {
		return formRefusal{}, false
	}
	r := formRefusal{Text: text}
	r.Status, _ = classify(err)
	if e, isRefusal := msg.AsError(err); isRefusal {
		r.Field = e.Field
	}
	return r, true
}

// fieldMessages is a service's refusals of a whole form at once (joined
// with errors.Join, or just one) as the form shows them: a sentence per
// field, "" for the form as a whole. ok is false when any of them is not
// a refusal (the handler returns err).
func fieldMessages(c echo.Context, err error) (map[string]string, bool) {
	errs := []error{err}
	if joined, isJoined := err.(interface{ Unwrap() []error }); isJoined {
		errs = joined.Unwrap()
	}
	out := map[string]string{}
	for _, e := range errs {
		r, ok := refusalInForm(c, e)
		if !ok {
			return nil, false
		}
		if _, seen := out[r.Field]; !seen {
			out[r.Field] = r.Text
		}
	}
	return out, true
}

package web

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jing"
)

// One place turns an error into a status and a sentence: a refusal says
// its own (at its kind's status), a platform error its own (a bad
// gateway), anything else a reason of ours, never Go's text.
func TestClassifySaysWhatAnErrorCarries(t *testing.T) {
	refusal := msg.Refuse(msg.Conflict, "jobs.error.state", msg.Nested("State", msg.New("jobs.state.done")))
	platform := &jing.Error{Endpoint: "members.list", Kind: jing.KindTransient, RequestID: "r-1"}
	cases := []struct {
		name   string
		err    error
		status int
		id     string
	}{
		{"refusal", fmt.Errorf("act: %w", refusal), http.StatusConflict, "jobs.error.state"},
		{"invalid", msg.Refuse(msg.Invalid, "user.error.password_short", msg.Int("Min", 12)), http.StatusUnprocessableEntity, "user.error.password_short"},
		{"forbidden", msg.Refuse(msg.Forbidden, "error.forbidden"), http.StatusForbidden, "error.forbidden"},
		{"platform", fmt.Errorf("sync: %w", platform), http.StatusBadGateway, "jing.error"},
		{"reason", echo.NewHTTPError(http.StatusForbidden, errCSRF), http.StatusForbidden, string(errCSRF)},
		{"echo 405", echo.ErrMethodNotAllowed, http.StatusNotFound, string(errNotFound)},
		{"not found", fmt.Errorf("read: %w", db.ErrNotFound), http.StatusNotFound, string(errNotFound)},
		{"go error", errors.New("dial tcp: refused"), http.StatusInternalServerError, string(errInternal)},
	}
	for _, c := range cases {
		status, m := classify(c.err)
		if status != c.status || m.ID != c.id {
			t.Errorf("%s: %d %q, want %d %q", c.name, status, m.ID, c.status, c.id)
		}
	}
}

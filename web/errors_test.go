package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
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
	t.Parallel()
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

// A service's refusal reaches the user through the central handler in
// their language, at its kind's status: an import that never started has
// no job to pause.
func TestARefusalReachesTheUserInTheirLanguage(t *testing.T) {
	t.Parallel()
	h, _ := newCrowdsHarness(t)
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")
	id := uploadOK(t, c, "名单.csv", []byte("手机号\n13800000001\n"))
	rec := c.post(fmt.Sprintf("/imports/%d/pause", id), nil)
	p := parsePage(t, rec.Body.String())
	if rec.Code != http.StatusConflict || p.text("error-message") != "未做任何更改：此导入尚未开始，没有可暂停、继续或取消的任务。" {
		t.Fatalf("%d %q", rec.Code, p.text("error-message"))
	}
	c.post("/lang", url.Values{"lang": {"en"}})
	rec = c.post(fmt.Sprintf("/imports/%d/pause", id), nil, htmx())
	if rec.Code != http.StatusConflict || rec.Header().Get("HX-Retarget") != "#toasts" ||
		!hasTestIDText(rec.Body.String(), "toast", "Nothing was changed: this import has not started") {
		t.Fatalf("htmx: %d %s", rec.Code, rec.Body.String())
	}
}

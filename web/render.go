package web

import (
	"bytes"
	"net/http"
	"sync"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/platform"
	"github.com/jingdesk/jingdesk/internal/roles"
	"github.com/jingdesk/jingdesk/templates/layout"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// View is one page: its translated title, which navigation section it
// belongs to, and its body. Bare pages (sign-in, setup) have no navigation.
type View struct {
	Title   string
	Section string
	Body    templ.Component
	Bare    bool
}

// render writes a view: for an htmx request that is not a boosted
// navigation, the body alone (the fragment being swapped); otherwise the
// body inside its layout. It renders into a buffer first, so a template
// error becomes a clean 500 rather than half a page with a 200.
func (k *kit) render(c echo.Context, status int, v View) error {
	pd := k.pageData(c, v.Title, v.Section)
	ctx := ui.WithPage(c.Request().Context(), pd)
	component := v.Body
	if !isHTMX(c) || c.Request().Header.Get("HX-Boosted") == "true" {
		if v.Bare {
			component = layout.Bare(pd, v.Body)
		} else {
			k.fillImportsBadge(c, pd)
			k.fillApprovalsBadge(c, pd)
			k.fillVerification(c, pd)
			component = layout.App(pd, v.Body)
		}
	}
	buf := getBuffer()
	defer putBuffer(buf)
	if err := component.Render(ctx, buf); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Add("Vary", "HX-Request")
	h.Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

// Page buffers are reused: a board page is a few hundred KB, and growing a
// fresh buffer to that size on every request cost more than writing it.
var bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// bufferKeepMax is the largest buffer put back, so one huge page does not
// pin its memory for good.
const bufferKeepMax = 4 << 20

func getBuffer() *bytes.Buffer { return bufferPool.Get().(*bytes.Buffer) }

// putBuffer returns buf once its bytes are written (HTMLBlob copies them
// to the connection before returning).
func putBuffer(buf *bytes.Buffer) {
	if buf.Cap() > bufferKeepMax {
		return
	}
	buf.Reset()
	bufferPool.Put(buf)
}

// renderFragment renders a component alone, whatever kind of request it is
// (for polling endpoints and partial updates).
func (k *kit) renderFragment(c echo.Context, status int, component templ.Component) error {
	pd := k.pageData(c, "", "")
	var buf bytes.Buffer
	if err := component.Render(ui.WithPage(c.Request().Context(), pd), &buf); err != nil {
		return err
	}
	c.Response().Header().Add("Vary", "HX-Request")
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

// pageData is built once per request for the layout and every template.
func (k *kit) pageData(c echo.Context, title, section string) *ui.PageData {
	pd := &ui.PageData{
		Title:     title,
		Section:   section,
		Path:      c.Request().URL.RequestURI(),
		CSRF:      csrfToken(c),
		Sandbox:   k.chrome.Sandbox(),
		Version:   k.version,
		RequestID: c.Response().Header().Get(echo.HeaderXRequestID),
		Flashes:   takeFlashes(c),
	}
	if u := currentUser(c); u != nil {
		pd.User = viewUser(*u)
	}
	return pd
}

func viewUser(u db.User) *ui.User {
	return &ui.User{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: u.Role}
}

// fillImportsBadge counts what the imports nav badge shows (only when the
// full layout is drawn).
func (k *kit) fillImportsBadge(c echo.Context, pd *ui.PageData) {
	if pd.User == nil {
		return
	}
	if finished, running, err := k.store.ImportsBadge(c.Request().Context(), pd.User.ID); err == nil {
		pd.ImportsFinished, pd.ImportsRunning = finished, running > 0
	}
}

// fillApprovalsBadge counts the sends waiting for the reader's approval
// (a failure leaves the badge empty: the page matters more).
func (k *kit) fillApprovalsBadge(c echo.Context, pd *ui.PageData) {
	if n, err := k.approvals.ApprovalsForYou(c.Request().Context(), currentUser(c)); err == nil {
		pd.ApprovalsForYou = n
	} else {
		k.log(c).Warn("count the sends waiting for approval", "error", err)
	}
}

// t translates for the current request.
func t(c echo.Context, id string, data ...any) string { return state(c).loc.T(id, data...) }

// redirectWithFlash is the usual end of a successful form post.
func redirectWithFlash(c echo.Context, kind, text, to string) error {
	addFlash(c, kind, text)
	return c.Redirect(http.StatusSeeOther, to)
}

// fillVerification adds to a full page what the last verification of the
// platform's answers says: a banner for administrators while an endpoint
// a feature needs failed it, and on a feature's pages, for everyone, the
// endpoints that feature needs which failed.
func (k *kit) fillVerification(c echo.Context, pd *ui.PageData) {
	if pd.User == nil {
		return
	}
	ctx := c.Request().Context()
	admin := pd.User.Can(roles.Admin)
	if admin {
		if rep, failed := k.chrome.VerificationFailures(ctx, ""); len(failed) > 0 {
			b := &ui.VerifyBanner{At: rep.At.Unix()}
			for _, r := range failed {
				b.Endpoints = append(b.Endpoints, r.Endpoint)
			}
			pd.VerifyBanner = b
		}
	}
	feature := platform.Feature(pd.Section)
	if len(platform.FeatureEndpoints(feature)) == 0 {
		return
	}
	rep, failed := k.chrome.VerificationFailures(ctx, feature)
	if len(failed) == 0 {
		return
	}
	w := &ui.FeatureWarning{Feature: pd.Section, At: rep.At.Unix(), Admin: admin}
	for _, r := range failed {
		w.Lines = append(w.Lines, ui.FeatureWarningLine{Endpoint: r.Endpoint, Status: string(r.Status), Field: r.Field})
	}
	pd.FeatureWarning = w
}

package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/platform"
	"github.com/jingdesk/jingdesk/templates/settings"
	"github.com/jingdesk/jingdesk/templates/ui"
)

const platformPath = "/settings/platform"

// How long the two buttons may take: a check probes every entry, paced.
const (
	platformTestTimeout  = 30 * time.Second
	platformCheckTimeout = 2 * time.Minute
)

// sandbox reports whether pages are marked "Sandbox": the live platform
// connection decides, so the banner changes as soon as the settings do.
func (s *Server) sandbox() bool {
	if s.Platform != nil {
		return s.Platform.Sandbox()
	}
	return s.Deps.Sandbox
}

// platformManager is the manager, or a 404 on a server built without one.
func (s *Server) platformManager() (*platform.Manager, error) {
	if s.Platform == nil {
		return nil, echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	return s.Platform, nil
}

func (s *Server) showPlatform(c echo.Context) error {
	return s.renderPlatform(c, http.StatusOK, nil, func(*settings.PlatformView) {})
}

// renderPlatform renders the page from the current status; form, when not
// nil, is the form as submitted (with its errors); edit adds results.
func (s *Server) renderPlatform(c echo.Context, status int, form *settings.PlatformForm, edit func(*settings.PlatformView)) error {
	m, err := s.platformManager()
	if err != nil {
		return err
	}
	st, err := m.Status(c.Request().Context())
	if err != nil {
		return err
	}
	v := settings.PlatformView{Conn: platformConnection(st), Form: platformForm(st), CatalogFile: s.CatalogFile,
		Overridden: len(m.Overridden())}
	v.Webhook = s.webhookCard(c) // issue 9: the webhook's URL and counts (web/live.go)
	if form != nil {
		v.Form.BaseURL, v.Form.AppID, v.Form.Errors = form.BaseURL, form.AppID, form.Errors
	}
	edit(&v)
	return s.render(c, status, View{Title: t(c, "platform.tab"), Section: "settings", Body: settings.Platform(v)})
}

func platformConnection(st platform.Status) settings.PlatformConnection {
	return settings.PlatformConnection{Sandbox: st.Sandbox, BaseURL: st.BaseURL, AppID: st.AppID, Renewals: st.Renewals,
		Incomplete: st.Incomplete, SecretUnreadable: st.SecretUnreadable}
}

// platformForm fills the form from the stored settings; locked fields show
// the value that wins. The secret is only ever "set" or "not set".
func platformForm(st platform.Status) settings.PlatformForm {
	f := settings.PlatformForm{BaseURL: st.Stored.BaseURL, AppID: st.Stored.AppID, ProductionURL: platform.ProductionBaseURL,
		SecretSet:     st.Stored.SecretSet || st.Locked.AppSecret,
		LockedBaseURL: st.Locked.BaseURL, LockedAppID: st.Locked.AppID, LockedAppSecret: st.Locked.AppSecret}
	if st.Locked.BaseURL {
		f.BaseURL = st.LockedBaseURL
	}
	if st.Locked.AppID {
		f.AppID = st.LockedAppID
	}
	return f
}

// savePlatform stores the settings and switches the live client.
func (s *Server) savePlatform(c echo.Context) error {
	m, err := s.platformManager()
	if err != nil {
		return err
	}
	in := platform.SettingsInput{
		BaseURL:   strings.TrimSpace(c.FormValue("base_url")),
		AppID:     strings.TrimSpace(c.FormValue("app_id")),
		AppSecret: strings.TrimSpace(c.FormValue("app_secret")),
	}
	if errs := validatePlatform(c, in); len(errs) > 0 {
		// The typed secret is not sent back: it would land in the page.
		form := settings.PlatformForm{BaseURL: in.BaseURL, AppID: in.AppID, Errors: errs}
		return s.renderPlatform(c, http.StatusUnprocessableEntity, &form, func(*settings.PlatformView) {})
	}
	changes, err := m.Save(c.Request().Context(), in)
	if err != nil {
		return err
	}
	if len(changes) == 0 {
		return redirectWithFlash(c, ui.FlashInfo, t(c, "platform.saved_nothing"), platformPath)
	}
	s.audit(c, db.AuditEntry{Action: "platform.settings", Object: "platform",
		Summary: strings.Join(changes, "; ") + "; " + s.platformTarget()})
	return redirectWithFlash(c, ui.FlashSuccess, s.connectedMessage(c), platformPath)
}

// platformTarget says where the console now calls, for the audit log.
func (s *Server) platformTarget() string {
	if s.Platform.Sandbox() {
		return "now using the embedded sandbox"
	}
	return "now using the platform at " + s.Platform.Client().BaseURL()
}

func (s *Server) connectedMessage(c echo.Context) string {
	if s.Platform.Sandbox() {
		return t(c, "platform.saved_sandbox")
	}
	return t(c, "platform.saved_live", "URL", s.Platform.Client().BaseURL())
}

// validatePlatform checks the form; an empty base URL means the production platform.
func validatePlatform(c echo.Context, in platform.SettingsInput) map[string]string {
	errs := map[string]string{}
	if in.BaseURL != "" && !validBaseURL(in.BaseURL) {
		errs["base_url"] = t(c, "platform.error.base_url")
	}
	if !plainText(in.AppID, 128) {
		errs["app_id"] = t(c, "platform.error.app_id")
	}
	if !plainText(in.AppSecret, 256) {
		errs["app_secret"] = t(c, "platform.error.app_secret")
	}
	return errs
}

// validBaseURL accepts an http(s) address with a host and nothing the
// client would silently drop or leak (credentials, query, fragment).
func validBaseURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && len(raw) <= 300 && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" &&
		u.User == nil && u.RawQuery == "" && u.Fragment == ""
}

// plainText: at most max characters, no spaces or control characters.
func plainText(s string, max int) bool {
	if utf8.RuneCountInString(s) > max {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func (s *Server) clearPlatformSecret(c echo.Context) error {
	m, err := s.platformManager()
	if err != nil {
		return err
	}
	cleared, err := m.ClearSecret(c.Request().Context())
	if err != nil {
		return err
	}
	if !cleared {
		return redirectWithFlash(c, ui.FlashInfo, t(c, "platform.saved_nothing"), platformPath)
	}
	s.audit(c, db.AuditEntry{Action: "platform.secret_clear", Object: "platform",
		Summary: "stored app_secret removed; " + s.platformTarget()})
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "platform.secret.cleared")+" "+s.connectedMessage(c), platformPath)
}

// testPlatform obtains a token and makes a harmless read. htmx swaps the
// answer under the button; without script the page comes back with it.
func (s *Server) testPlatform(c echo.Context) error {
	m, err := s.platformManager()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), platformTestTimeout)
	defer cancel()
	res, err := m.TestConnection(ctx)
	result := settings.ConnectionResult{OK: err == nil}
	entry := db.AuditEntry{Action: "platform.test", Object: "platform", Summary: "connection test: " + s.platformTarget()}
	if err != nil {
		result.Message = platformErrorText(c, err)
		entry.Outcome, entry.Summary = db.OutcomeFailed, entry.Summary+"; failed: "+errorKind(err)
		s.log(c).Warn("platform connection test failed", "error", err)
	} else {
		result.Message = connectionOK(c, res)
	}
	s.audit(c, entry)
	if wantsFragment(c) {
		return s.renderFragment(c, http.StatusOK, settings.TestResult(result))
	}
	return s.renderPlatform(c, http.StatusOK, nil, func(v *settings.PlatformView) { v.Test = &result })
}

func connectionOK(c echo.Context, res platform.ConnectionTest) string {
	if res.Members < 0 {
		return t(c, "platform.test.ok_token")
	}
	return t(c, "platform.test.ok", "Members", state(c).loc.Number(int64(res.Members)))
}

// platformErrorText is a failure in the user's language: the client's own
// sentence for a platform error, never Go error text.
func platformErrorText(c echo.Context, err error) string {
	if e, ok := jing.AsError(err); ok {
		return state(c).loc.Message(e.Message())
	}
	if ctxErr := context.Cause(c.Request().Context()); ctxErr != nil {
		return t(c, "platform.error.cancelled")
	}
	return t(c, "platform.error.unknown")
}

// unrecognisedAnswer is the Usage page's account of an answer not understood.
func unrecognisedAnswer(c echo.Context, e *jing.Error, at time.Time) settings.UnrecognisedAnswer {
	return settings.UnrecognisedAnswer{At: at.Unix(), Endpoint: e.Endpoint, Status: e.HTTPStatus, Field: e.Field,
		Excerpt: e.Excerpt, Message: platformErrorText(c, e)}
}

// errorKind names a failure for the audit log without transport details.
func errorKind(err error) string {
	if e, ok := jing.AsError(err); ok {
		if e.Code != 0 {
			return fmt.Sprintf("%s (code %d)", e.Kind, e.Code)
		}
		return e.Kind.String()
	}
	return "no answer"
}

// checkEndpoints probes every catalog entry and shows the table.
func (s *Server) checkEndpoints(c echo.Context) error {
	m, err := s.platformManager()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), platformCheckTimeout)
	defer cancel()
	check := s.endpointCheck(c, m, m.CheckEndpoints(ctx))
	var counts []string
	for _, st := range settings.ProbeStatuses {
		if n := check.Counts[st]; n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", n, st))
		}
	}
	s.audit(c, db.AuditEntry{Action: "platform.check", Object: "platform",
		Summary: "endpoint check: " + strings.Join(counts, ", ") + "; " + s.platformTarget()})
	if wantsFragment(c) {
		return s.renderFragment(c, http.StatusOK, settings.CheckTable(check))
	}
	return s.renderPlatform(c, http.StatusOK, nil, func(v *settings.PlatformView) { v.Check = &check })
}

func (s *Server) endpointCheck(c echo.Context, m *platform.Manager, results []jing.ProbeResult) settings.EndpointCheck {
	overridden := m.Overridden()
	check := settings.EndpointCheck{Counts: map[string]int{}}
	for _, r := range results {
		row := settings.ProbeRow{Entry: catalogEntry(r.Endpoint, overridden), Status: string(r.Status),
			RequestID: r.RequestID, DurationMS: r.Duration.Milliseconds()}
		row.Detail = probeDetail(c, r)
		check.Rows = append(check.Rows, row)
		check.Counts[row.Status]++
	}
	return check
}

// probeDetail explains a result: the platform's code and text, or for a
// failure with no answer the client's sentence.
func probeDetail(c echo.Context, r jing.ProbeResult) string {
	switch {
	case r.Status == jing.ProbeDisabled:
		return t(c, "platform.probe.disabled_detail")
	case r.Code != 0 && r.Status == jing.ProbeReachable:
		return fmt.Sprintf("%d %s", r.Code, r.Msg)
	case r.Status == jing.ProbePathNotFound:
		return t(c, "platform.probe.path_detail", "Code", r.Code, "Msg", r.Msg)
	case r.Err != nil:
		return platformErrorText(c, r.Err)
	}
	return ""
}

func catalogEntry(e jing.Endpoint, overridden map[string][]string) settings.CatalogEntry {
	return settings.CatalogEntry{Key: e.Key, Method: e.Method, Path: e.Path, Documented: e.Status == jing.Documented,
		Disabled: e.Disabled, Overridden: overridden[e.Key]}
}

// showPlatformUsage lists the per-endpoint counters.
func (s *Server) showPlatformUsage(c echo.Context) error {
	m, err := s.platformManager()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	st, err := m.Status(ctx)
	if err != nil {
		return err
	}
	overridden := m.Overridden()
	v := settings.UsageView{Conn: platformConnection(st), Day: m.Today()}
	var latest time.Time // of the newest answer not understood
	for _, es := range m.Stats(ctx) {
		row := settings.UsageRow{Entry: catalogEntry(es.Endpoint, overridden), CallsToday: es.CallsToday,
			DailyQuota: es.Endpoint.DailyQuota, Calls: es.Calls, Errors: es.Errors, LastRequestID: es.LastRequestID}
		if es.LastErr != nil {
			row.LastError = platformErrorText(c, es.LastErr)
		}
		if !es.LastErrorAt.IsZero() {
			row.LastErrorAt = es.LastErrorAt.Unix()
		}
		if es.Calls > 0 {
			row.AvgMS = (es.TotalDuration / time.Duration(es.Calls)).Milliseconds()
		}
		row.Unrecognised = es.Unrecognised
		v.Rows = append(v.Rows, row)
		v.Unrecognised += es.Unrecognised
		if es.LastUnrecognised != nil && es.LastUnrecognisedAt.After(latest) {
			latest = es.LastUnrecognisedAt
			v.LastUnrecognised = unrecognisedAnswer(c, es.LastUnrecognised, es.LastUnrecognisedAt)
		}
	}
	return s.render(c, http.StatusOK, View{Title: t(c, "platform.usage.title"), Section: "settings", Body: settings.Usage(v)})
}

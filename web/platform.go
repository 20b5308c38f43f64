package web

import (
	"context"
	"fmt"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
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

// platformArea is Settings → Platform (administrators): the connection's
// settings, the connection test, the endpoint check, the verification of
// the platform's answers (verify.go) and the usage counters. The webhook
// card on the same page is the webhooks area's.
type platformArea struct {
	*kit
	platform    platformSettings
	catalogFile string // where the endpoint catalog's overrides are read from
	webhookCard func(echo.Context) *settings.WebhookCard
}

// platformSettings is what the page needs of the platform manager
// (internal/platform).
type platformSettings interface {
	Status(ctx context.Context) (platform.Status, error)
	Save(ctx context.Context, in platform.SettingsInput) ([]msg.Message, error)
	ClearSecret(ctx context.Context) (bool, error)
	Sandbox() bool
	Client() *jing.Client
	Connection() string
	TestConnection(ctx context.Context) (platform.ConnectionTest, error)
	CheckEndpoints(ctx context.Context) []jing.ProbeResult
	Overridden() map[string][]string
	Stats(ctx context.Context) []jing.EndpointStats
	Today() string
	PlanVerification(ctx context.Context) platform.VerifyPlan
	VerifyAnswers(ctx context.Context) (platform.VerifyReport, error)
	LastVerification(ctx context.Context) (platform.VerifyReport, bool)
}

func (a *platformArea) showPlatform(c echo.Context) error {
	return a.renderPlatform(c, http.StatusOK, nil, func(*settings.PlatformView) {})
}

// renderPlatform renders the page from the current status; form, when not
// nil, is the form as submitted (with its errors); edit adds results.
func (a *platformArea) renderPlatform(c echo.Context, status int, form *settings.PlatformForm, edit func(*settings.PlatformView)) error {
	st, err := a.platform.Status(c.Request().Context())
	if err != nil {
		return err
	}
	v := settings.PlatformView{Conn: platformConnection(st), Form: platformForm(st), CatalogFile: a.catalogFile,
		Overridden: len(a.platform.Overridden())}
	v.Webhook = a.webhookCard(c) // issue 9: the webhook's URL and counts (web/live.go)
	v.Verify = a.verifyCard(c)
	if form != nil {
		v.Form.BaseURL, v.Form.AppID, v.Form.Errors = form.BaseURL, form.AppID, form.Errors
	}
	edit(&v)
	return a.render(c, status, View{Title: t(c, "platform.tab"), Section: "settings", Body: settings.Platform(v)})
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
func (a *platformArea) savePlatform(c echo.Context) error {
	in := platform.SettingsInput{
		BaseURL:   strings.TrimSpace(c.FormValue("base_url")),
		AppID:     strings.TrimSpace(c.FormValue("app_id")),
		AppSecret: strings.TrimSpace(c.FormValue("app_secret")),
	}
	if errs := validatePlatform(c, in); len(errs) > 0 {
		// The typed secret is not sent back: it would land in the page.
		form := settings.PlatformForm{BaseURL: in.BaseURL, AppID: in.AppID, Errors: errs}
		return a.renderPlatform(c, http.StatusUnprocessableEntity, &form, func(*settings.PlatformView) {})
	}
	changes, err := a.platform.Save(c.Request().Context(), in)
	if err != nil {
		return err
	}
	if len(changes) == 0 {
		return redirectWithFlash(c, ui.FlashInfo, t(c, "platform.saved_nothing"), platformPath)
	}
	a.audit(c, db.AuditEntry{Action: "platform.settings", Object: "platform",
		Summary: summary("platform_settings", msg.Nested("Changes", msg.Join(changes)), msg.Nested("Target", a.platformTarget())).Encode()})
	return redirectWithFlash(c, ui.FlashSuccess, a.connectedMessage(c), platformPath)
}

// platformTarget says where the console now calls, for the audit log.
func (a *platformArea) platformTarget() msg.Message {
	if a.platform.Sandbox() {
		return summary("target_sandbox")
	}
	return summary("target_platform", msg.Str("URL", a.platform.Client().BaseURL()))
}

func (a *platformArea) connectedMessage(c echo.Context) string {
	if a.platform.Sandbox() {
		return t(c, "platform.saved_sandbox")
	}
	return t(c, "platform.saved_live", "URL", a.platform.Client().BaseURL())
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

func (a *platformArea) clearPlatformSecret(c echo.Context) error {
	cleared, err := a.platform.ClearSecret(c.Request().Context())
	if err != nil {
		return err
	}
	if !cleared {
		return redirectWithFlash(c, ui.FlashInfo, t(c, "platform.saved_nothing"), platformPath)
	}
	a.audit(c, db.AuditEntry{Action: "platform.secret_clear", Object: "platform",
		Summary: summary("secret_clear", msg.Nested("Target", a.platformTarget())).Encode()})
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "platform.secret.cleared")+" "+a.connectedMessage(c), platformPath)
}

// testPlatform obtains a token and makes a harmless read. htmx swaps the
// answer under the button; without script the page comes back with it.
func (a *platformArea) testPlatform(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), platformTestTimeout)
	defer cancel()
	res, err := a.platform.TestConnection(ctx)
	result := settings.ConnectionResult{OK: err == nil}
	entry := db.AuditEntry{Action: "platform.test", Object: "platform", Summary: summary("platform_test", msg.Nested("Target", a.platformTarget())).Encode()}
	if err != nil {
		result.Message = platformErrorText(c, err)
		entry.Outcome = db.OutcomeFailed
		entry.Summary = summary("platform_test_failed", msg.Nested("Target", a.platformTarget()), msg.Nested("Error", msg.FromError(err))).Encode()
		a.log(c).Warn("platform connection test failed", "error", err)
	} else {
		result.Message = connectionOK(c, res)
	}
	a.audit(c, entry)
	if wantsFragment(c) {
		return a.renderFragment(c, http.StatusOK, settings.TestResult(result))
	}
	return a.renderPlatform(c, http.StatusOK, nil, func(v *settings.PlatformView) { v.Test = &result })
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

// checkEndpoints probes every catalog entry and shows the table.
func (a *platformArea) checkEndpoints(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), platformCheckTimeout)
	defer cancel()
	check := a.endpointCheck(c, a.platform.CheckEndpoints(ctx))
	var counts []msg.Message
	for _, st := range settings.ProbeStatuses {
		if n := check.Counts[st]; n > 0 {
			counts = append(counts, counted(msg.New("platform.probe."+st), n))
		}
	}
	a.audit(c, db.AuditEntry{Action: "platform.check", Object: "platform",
		Summary: summary("platform_check", msg.Nested("Counts", msg.Join(counts)), msg.Nested("Target", a.platformTarget())).Encode()})
	if wantsFragment(c) {
		return a.renderFragment(c, http.StatusOK, settings.CheckTable(check))
	}
	return a.renderPlatform(c, http.StatusOK, nil, func(v *settings.PlatformView) { v.Check = &check })
}

func (a *platformArea) endpointCheck(c echo.Context, results []jing.ProbeResult) settings.EndpointCheck {
	overridden := a.platform.Overridden()
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
func (a *platformArea) showPlatformUsage(c echo.Context) error {
	ctx := c.Request().Context()
	st, err := a.platform.Status(ctx)
	if err != nil {
		return err
	}
	overridden := a.platform.Overridden()
	v := settings.UsageView{Conn: platformConnection(st), Day: a.platform.Today()}
	var latest time.Time // of the newest answer not understood
	for _, es := range a.platform.Stats(ctx) {
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
	return a.render(c, http.StatusOK, View{Title: t(c, "platform.usage.title"), Section: "settings", Body: settings.Usage(v)})
}

// Package ui is what every template reads from its context: the page data
// built once per request and the Localizer. It holds no markup.
package ui

import (
	"context"

	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/internal/roles"
)

// PageData is built once per request by the web layer.
type PageData struct {
	Title     string // already translated
	Section   string // which navigation item is current: "leads", "settings", …
	Path      string
	CSRF      string
	User      *User // nil when signed out
	Flashes   []Flash
	Sandbox   bool
	Version   string
	RequestID string
	// The imports nav badge: the user's finished imports not seen yet, and
	// whether one of theirs is running (the badge then polls).
	ImportsFinished int
	ImportsRunning  bool
	// ApprovalsForYou is how many sends wait for this user's approval (the
	// approvals nav badge; 0 for anyone who may not approve).
	ApprovalsForYou int
	// VerifyBanner, for administrators, lists the endpoints the features
	// need that failed the last verification of the platform's answers.
	VerifyBanner *VerifyBanner
	// FeatureWarning, on a feature's pages, lists the endpoints that
	// feature needs that failed it.
	FeatureWarning *FeatureWarning
}

// VerifyBanner is the administrators' banner while an endpoint failed verification.
type VerifyBanner struct {
	Endpoints []string
	At        int64 // when the verification ran
}

// FeatureWarning tells a feature's users that endpoints it needs failed verification.
type FeatureWarning struct {
	Feature string // the navigation section: "leads", "crowds", …
	At      int64
	// Lines name each endpoint and what was found, in the reader's language.
	Lines []FeatureWarningLine
	// Admin: the reader can open the report (Settings → Platform).
	Admin bool
}

// FeatureWarningLine is one failed endpoint of a feature.
type FeatureWarningLine struct {
	Endpoint string
	Status   string // a VerifyStatus
	Field    string // of an answer not understood
}

// User is the signed-in account as the header and navigation need it.
type User struct {
	ID          int64
	Username    string
	DisplayName string
	Role        string
}

// Name is what the header shows.
func (u *User) Name() string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Username
}

// Can reports whether the user's role reaches min (roles.AtLeast): what
// a template asks before it shows a control.
func (u *User) Can(min string) bool { return u != nil && roles.AtLeast(u.Role, min) }

// Flash kinds.
const (
	FlashSuccess = "success"
	FlashError   = "error"
	FlashInfo    = "info"
)

// Flash is a one-time message shown at the top of the next page.
type Flash struct {
	Kind string
	Text string // already translated
}

type pageKey struct{}

// WithPage stores pd in ctx.
func WithPage(ctx context.Context, pd *PageData) context.Context {
	return context.WithValue(ctx, pageKey{}, pd)
}

// Page returns the request's PageData (an empty one outside a request).
func Page(ctx context.Context) *PageData {
	if pd, ok := ctx.Value(pageKey{}).(*PageData); ok {
		return pd
	}
	return &PageData{}
}

// T translates id for the request's language.
func T(ctx context.Context, id string, data ...any) string {
	return i18n.FromContext(ctx).T(id, data...)
}

// TOr translates id when the catalogs have it, else is fallback.
func TOr(ctx context.Context, id, fallback string) string {
	return i18n.FromContext(ctx).TOr(id, fallback)
}

// Stored renders a text kept in the database (an encoded message in the
// reader's language; older plain text as it is).
func Stored(ctx context.Context, s string) string { return i18n.FromContext(ctx).Stored(s) }

// Num formats an integer with thousands separators.
func Num[N ~int | ~int64](ctx context.Context, n N) string {
	return i18n.FromContext(ctx).Number(int64(n))
}

// DateTime formats Unix seconds in the user's language and the server's zone.
func DateTime(ctx context.Context, unix int64) string {
	return i18n.FromContext(ctx).DateTime(unix)
}

// Lang is the request's language code.
func Lang(ctx context.Context) string { return i18n.FromContext(ctx).Lang }

// RoleName is the translated name of a role.
func RoleName(ctx context.Context, role string) string { return T(ctx, "role."+role) }

// Package jing is the client of the Jing open platform: the endpoint
// catalog, authentication, pacing, retries, typed calls and errors. It knows
// nothing of HTTP handlers or SQLite: persistence and auditing come in
// through small interfaces (TokenStore, UsageStore, AuditHook).
package jing

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
)

// Status says how much we know about an endpoint.
type Status string

const (
	// Documented endpoints were seen in the platform's documentation.
	Documented Status = "documented"
	// Provisional endpoints exist on the platform, but their path and shape
	// follow the API's conventions rather than a page we have read.
	Provisional Status = "provisional"
)

// Documented default limits (lead creation's, used wherever an endpoint's own is unknown).
const (
	DefaultRatePerSecond = 10
	DefaultDailyQuota    = 10000
)

// Endpoint is one entry of the catalog.
type Endpoint struct {
	Key    string
	Method string
	Path   string
	Status Status
	// RatePerSecond and DailyQuota are the platform's limits for this endpoint.
	RatePerSecond float64
	DailyQuota    int
	// MaxBatch is the most items one call may carry (0: not a batch call).
	MaxBatch int
	// Idempotent calls may be repeated after a transient failure; others
	// (sends, creations) are never retried blindly.
	Idempotent bool
	// Write calls change the platform and go through the audit hook.
	Write bool
	// Disabled entries are not called: the deployment's platform lacks them.
	Disabled bool
	// StringCode marks the envelope variant with a string "code" and
	// "message" instead of "msg" (documented for crowd import).
	StringCode bool
}

// Catalog is the set of endpoints, in a stable order.
type Catalog struct {
	byKey map[string]Endpoint
	keys  []string
}

// IsZero reports an unset catalog (callers then use DefaultCatalog).
func (c Catalog) IsZero() bool { return c.byKey == nil }

// Get returns an endpoint by key.
func (c Catalog) Get(key string) (Endpoint, bool) {
	e, ok := c.byKey[key]
	return e, ok
}

// All returns every endpoint in catalog order.
func (c Catalog) All() []Endpoint {
	out := make([]Endpoint, 0, len(c.keys))
	for _, k := range c.keys {
		out = append(out, c.byKey[k])
	}
	return out
}

// ByPath finds the endpoint served at method+path (the sandbox routes with it).
func (c Catalog) ByPath(method, path string) (Endpoint, bool) {
	for _, k := range c.keys {
		if e := c.byKey[k]; e.Method == method && PathOnly(e.Path) == path {
			return e, true
		}
	}
	return Endpoint{}, false
}

// PathOnly strips a query string from a catalog path.
func PathOnly(p string) string {
	path, _, _ := strings.Cut(p, "?")
	return path
}

const (
	post = http.MethodPost
	put  = http.MethodPut
	del  = http.MethodDelete
)

// entry builds a catalog line with the default limits.
func entry(key, method, path string, status Status) Endpoint {
	return Endpoint{Key: key, Method: method, Path: path, Status: status,
		RatePerSecond: DefaultRatePerSecond, DailyQuota: DefaultDailyQuota, Idempotent: true}
}

// write marks an endpoint as changing the platform; repeatable says whether
// repeating it after an unknown outcome is harmless.
func (e Endpoint) write(repeatable bool) Endpoint {
	e.Write, e.Idempotent = true, repeatable
	return e
}

func (e Endpoint) batch(n int) Endpoint { e.MaxBatch = n; return e }

// DefaultCatalog is the catalog of ../shared/jing-api/endpoints.md.
func DefaultCatalog() Catalog {
	D, P := Documented, Provisional
	entries := []Endpoint{
		entry("oauth.token", post, "/v1/oauth2/token", P),
		entry("oauth.refresh", post, "/v1/oauth2/token/refresh", D),

		// users.create merges into known persons, so repeating it is harmless.
		entry("users.create", post, "/v1/user/create?returnFull=true", D).write(true).batch(100),
		entry("users.query", post, "/v1/user/query", P),
		entry("users.identity_batch", post, "/v1/user/identity/batchQuery", P).batch(100),
		entry("users.update_batch", post, "/v1/user/update", P).write(true).batch(100),

		entry("crowds.list", post, "/v2/crowd/static/list", P),
		entry("crowds.detail", post, "/v2/crowd/static/detail", P),
		entry("crowds.users", post, "/v2/crowd/static/users", P),
		entry("crowds.create", post, "/v2/crowd/static/create", P).write(false),
		entry("crowds.update", put, "/v2/crowd/static/update", P).write(true),
		// A repeated delete after a lost answer is refused (not found), so
		// the caller must hear "outcome unknown", not a false failure.
		entry("crowds.delete", del, "/v2/crowd/static/delete", P).write(false),
		withStringCode(entry("crowds.import", post, "/v2/crowd/static/importByUuids", D).write(true).batch(1000)),

		entry("leads.create", post, "/v1/leads/create", D).write(false),
		entry("leads.update", post, "/v1/leads/update", P).write(true),
		entry("leads.query", post, "/v1/leads/query", P),
		entry("leads.status_list", post, "/v1/leads/status/list", P),
		entry("leads.status_update", post, "/v1/leads/status/update", P).write(true),
		entry("leads.list", post, "/v1/leads/list", P),
		entry("leads.collaborators", post, "/v1/leads/collaborators/update", P).write(true),
		entry("leads.detail_link", post, "/v1/leads/detail/link", P),

		entry("objects.business_types", post, "/v1/object/businessType/list", P),
		entry("objects.option_set", post, "/v1/object/optionSet/list", P),
		entry("objects.source_options", post, "/v1/object/sourceField/options", P),
		entry("objects.custom_options", post, "/v1/object/customOptionSet/list", P),
		entry("objects.fields", post, "/v1/object/fields", P),

		entry("members.list", post, "/v1/member/list", P),

		entry("sms.list", post, "/v1/sms/list", P),
		entry("sms.send_detail", post, "/v1/sms/send/detail", P),
		entry("sms.task_create", post, "/v1/sms/task/create", P).write(false),
		entry("sms.send", post, "/v1/sms/task/send", P).write(false),

		entry("edm.mailboxes", post, "/v1/edm/mailbox/list", P),
		entry("edm.create", post, "/v1/edm/send/create", P).write(false),
		entry("edm.detail", post, "/v1/edm/send/detail", P),
		// Update and delete work only before a send starts; a repeat after a
		// lost answer may find it started or gone, so neither is retried.
		entry("edm.update", put, "/v1/edm/send/update", P).write(false),
		entry("edm.delete", del, "/v1/edm/send/delete", P).write(false),
		entry("edm.list", post, "/v1/edm/send/list", P),
		entry("edm.records", post, "/v1/edm/send/records", P),

		entry("scores.user_identity", post, "/v1/scoring/user/identity/batch", P).batch(100),
		entry("scores.user_active", post, "/v1/scoring/user/active/batch", P).batch(100),
		entry("scores.user_intention", post, "/v1/scoring/user/intention/batch", P).batch(100),
		entry("scores.lead_identity", post, "/v1/scoring/lead/identity/batch", P).batch(100),
		entry("scores.lead_active", post, "/v1/scoring/lead/active/batch", P).batch(100),
		entry("scores.lead_intention", post, "/v1/scoring/lead/intention/batch", P).batch(100),
		// Clearing is destructive but repeating a clear changes nothing more.
		entry("scores.user_active_clear", post, "/v1/scoring/user/active/clear", P).write(true).batch(100),

		entry("privacy.status", post, "/v2/privacy/policy/getbyomni", D),
	}
	c := Catalog{byKey: map[string]Endpoint{}}
	for _, e := range entries {
		c.byKey[e.Key] = e
		c.keys = append(c.keys, e.Key)
	}
	return c
}

func withStringCode(e Endpoint) Endpoint { e.StringCode = true; return e }

// Override is one entry of catalog.json: what a deployment may correct.
type Override struct {
	Path          *string  `json:"path,omitempty"`
	Method        *string  `json:"method,omitempty"`
	RatePerSecond *float64 `json:"rate_per_second,omitempty"`
	DailyQuota    *int     `json:"daily_quota,omitempty"`
	MaxBatch      *int     `json:"max_batch,omitempty"`
	Disabled      *bool    `json:"disabled,omitempty"`
}

// MaxBatchLimit is the largest max_batch a catalog may set: the platform
// documents 1,000 at most (crowd import), and a bigger call only risks a
// refused or timed-out request and a large body in memory.
const MaxBatchLimit = 10000

// Methods are the HTTP methods a catalog entry may use.
var Methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// ApplyOverrides returns a copy of c with overrides applied. An unknown
// endpoint or an impossible value is an error naming the entry and the
// field: a typo must not silently leave the wrong path in place. Every
// problem is reported at once, sorted by endpoint.
func (c Catalog) ApplyOverrides(overrides map[string]Override) (Catalog, error) {
	out, errs := c.applyOverrides(overrides, nil)
	if len(errs) > 0 {
		return Catalog{}, fmt.Errorf("jing: catalog override: %w", errors.Join(errs...))
	}
	return out, nil
}

// applyOverrides returns every problem, each prefixed by where(entry) when
// where is set (the line of the entry in the file).
func (c Catalog) applyOverrides(overrides map[string]Override, where func(key string) string) (Catalog, []error) {
	out := Catalog{byKey: make(map[string]Endpoint, len(c.byKey)), keys: c.keys}
	for k, e := range c.byKey {
		out.byKey[k] = e
	}
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(overrides)) {
		at := ""
		if where != nil {
			at = where(k)
		}
		e, ok := out.byKey[k]
		if !ok {
			errs = append(errs, fmt.Errorf("%sunknown endpoint %q%s", at, k, didYouMean(k, c.keys)))
			continue
		}
		e, problems := overrides[k].apply(e)
		for _, p := range problems {
			errs = append(errs, fmt.Errorf("%s%s: %s", at, k, p))
		}
		out.byKey[k] = e
	}
	return out, append(errs, out.routeClashes()...)
}

// apply returns e corrected by o, and what is wrong with o's values.
func (o Override) apply(e Endpoint) (Endpoint, []string) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if o.Path != nil {
		if why := pathProblem(*o.Path); why != "" {
			bad("path %q %s", *o.Path, why)
		}
		e.Path = *o.Path
	}
	if o.Method != nil {
		if !slices.Contains(Methods, *o.Method) {
			bad("method %q must be one of %s (upper case)", *o.Method, strings.Join(Methods, ", "))
		}
		e.Method = *o.Method
	}
	if o.RatePerSecond != nil {
		if r := *o.RatePerSecond; !(r > 0) || math.IsInf(r, 0) {
			bad("rate_per_second must be positive (calls per second; 0.5 is one call every 2 s), not %v", r)
		}
		e.RatePerSecond = *o.RatePerSecond
	}
	if o.DailyQuota != nil {
		if *o.DailyQuota <= 0 {
			bad("daily_quota must be positive (calls per platform day), not %d", *o.DailyQuota)
		}
		e.DailyQuota = *o.DailyQuota
	}
	if o.MaxBatch != nil {
		switch n := *o.MaxBatch; {
		case e.MaxBatch == 0:
			bad("max_batch does not apply: %s is not a batch call", e.Key)
		case n < 1 || n > MaxBatchLimit:
			bad("max_batch must be between 1 and %d, not %d", MaxBatchLimit, n)
		}
		e.MaxBatch = *o.MaxBatch
	}
	if o.Disabled != nil {
		if *o.Disabled && e.Key == "oauth.token" {
			bad("disabled cannot be true: without oauth.token no token can be obtained")
		}
		e.Disabled = *o.Disabled
	}
	return e, problems
}

// pathProblem says what is wrong with a catalog path, or "".
func pathProblem(p string) string {
	switch {
	case !strings.HasPrefix(p, "/"):
		return "must start with / (the base URL comes from the connection settings)"
	case strings.HasPrefix(p, "//"):
		return "must be a path on the platform, not another host"
	case strings.ContainsFunc(p, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return "must not contain spaces or control characters"
	case strings.Contains(p, "#"):
		return "must not contain a fragment (#)"
	}
	if _, err := url.ParseRequestURI(p); err != nil {
		return "is not a valid path: " + err.Error()
	}
	return ""
}

// routeClashes reports two entries served at the same method and path:
// the platform (and the sandbox, which routes by ByPath) could not tell
// them apart.
func (c Catalog) routeClashes() []error {
	var errs []error
	seen := map[string]string{}
	for _, k := range c.keys {
		e := c.byKey[k]
		route := e.Method + " " + PathOnly(e.Path)
		if first, ok := seen[route]; ok {
			errs = append(errs, fmt.Errorf("%s and %s are both %s: each endpoint needs its own method and path", first, k, route))
			continue
		}
		seen[route] = k
	}
	return errs
}

// LoadCatalog returns the default catalog with the overrides in path
// applied; a missing file means no overrides. Every error names the file.
func LoadCatalog(path string) (Catalog, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return DefaultCatalog(), nil
	}
	if err != nil {
		return Catalog{}, fmt.Errorf("jing: read %s: %w", path, err)
	}
	// The values are checked even when some fields were refused, so one
	// round of corrections fixes the whole file.
	f, errs := parseOverrides(raw)
	cat := Catalog{}
	if f.overrides != nil {
		var bad []error
		cat, bad = DefaultCatalog().applyOverrides(f.overrides, func(key string) string {
			return fmt.Sprintf("line %d: ", f.lines[key])
		})
		errs = append(errs, bad...)
	}
	if len(errs) > 0 {
		return Catalog{}, fmt.Errorf("jing: catalog file %s: %w", path, errors.Join(errs...))
	}
	return cat, nil
}

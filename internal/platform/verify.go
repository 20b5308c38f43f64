package platform

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jing"
)

// Verifying answers calls every read-only endpoint once, through the same
// client methods the features call (so the same shape checks and decoders
// judge the answer: jing.CheckAnswer and the typed answers), and says per
// endpoint whether the console understands what it answers. It never calls
// an endpoint that writes. Reads that need an id (a crowd's members, a
// lead by its uuid) take one from a list read before them, or are skipped
// with the reason when there is nothing to read.

// VerifyStatus is what the verification found for one endpoint.
type VerifyStatus string

const (
	// VerifyUnderstood: the endpoint answered, and the console understood the answer.
	VerifyUnderstood VerifyStatus = "understood"
	// VerifyNotUnderstood: it answered in a shape the console does not understand (Field).
	VerifyNotUnderstood VerifyStatus = "not_understood"
	// VerifyNotFound: the platform has nothing at the endpoint's path.
	VerifyNotFound VerifyStatus = "not_found"
	// VerifyNotPermitted: the tenant, or this server's address, may not call it.
	VerifyNotPermitted VerifyStatus = "not_permitted"
	// VerifyRefused: the platform refused the request the console sends
	// (a missing or invalid parameter): the feature's calls fail the same way.
	VerifyRefused VerifyStatus = "refused"
	// VerifyDisabled: catalog.json disables it, so it was not called.
	VerifyDisabled VerifyStatus = "disabled"
	// VerifyQuota: today's quota is used up; nothing was learned.
	VerifyQuota VerifyStatus = "quota"
	// VerifyAuthFailed: the platform refused the credentials or the token.
	VerifyAuthFailed VerifyStatus = "auth_failed"
	// VerifyUnavailable: the platform or the network failed; nothing was learned.
	VerifyUnavailable VerifyStatus = "unavailable"
	// VerifySkipped: not called: nothing to read (no id to read by), or no token.
	VerifySkipped VerifyStatus = "skipped"
)

// VerifyStatuses are the statuses in the order summaries list them.
var VerifyStatuses = []VerifyStatus{VerifyUnderstood, VerifyNotUnderstood, VerifyNotFound, VerifyNotPermitted,
	VerifyRefused, VerifyAuthFailed, VerifyQuota, VerifyUnavailable, VerifySkipped, VerifyDisabled}

// Failed reports an endpoint that, as configured, cannot serve the
// features that need it: the pages of those features say so, and
// administrators see a banner on every page.
func (s VerifyStatus) Failed() bool {
	switch s {
	case VerifyNotUnderstood, VerifyNotFound, VerifyNotPermitted, VerifyRefused:
		return true
	}
	return false
}

// Problem reports a status that fails the check (jingdesk check exits
// non-zero): a failure, or an endpoint that could not be verified.
// Understood, skipped (nothing to read) and disabled are not problems.
func (s VerifyStatus) Problem() bool {
	return s.Failed() || s == VerifyQuota || s == VerifyAuthFailed || s == VerifyUnavailable
}

// VerifyResult is one endpoint's line of a verification.
type VerifyResult struct {
	Endpoint string       `json:"endpoint"`
	Status   VerifyStatus `json:"status"`
	// Detail says why, in the reader's language: the error, what was
	// skipped and why, or a note on an answer understood.
	Detail msg.Message `json:"detail,omitzero"`
	// Field is the field of an answer not understood ("items", "items[3].group_id").
	Field string `json:"field,omitempty"`
	// NoMeta: a list answered without _meta. Understood (the console walks
	// pages until a short one), but totals are unknown: a note.
	NoMeta     bool   `json:"no_meta,omitempty"`
	RequestID  string `json:"request_id,omitempty"`
	DurationMS int64  `json:"ms,omitempty"`
}

// VerifyReport is one verification of the answers.
type VerifyReport struct {
	At time.Time `json:"at"`
	// Connection names the platform it was made against (Manager.Connection);
	// BaseURL is where that was.
	Connection string `json:"connection"`
	BaseURL    string `json:"base_url"`
	// Token is obtaining a token, the first step: without one nothing is read.
	Token VerifyResult   `json:"token"`
	Reads []VerifyResult `json:"reads"`
	// Writes are the endpoints that change the platform: never called.
	Writes []string `json:"writes"`
}

// Results are the token's line (when it failed) and every read's.
func (r VerifyReport) Results() []VerifyResult {
	if r.Token.Status == VerifyUnderstood || r.Token.Status == "" {
		return r.Reads
	}
	return append([]VerifyResult{r.Token}, r.Reads...)
}

// Counts are the reads per status.
func (r VerifyReport) Counts() map[VerifyStatus]int {
	out := map[VerifyStatus]int{}
	for _, res := range r.Reads {
		out[res.Status]++
	}
	return out
}

// Problems are the results that fail the check, the token's first.
func (r VerifyReport) Problems() []VerifyResult {
	var out []VerifyResult
	for _, res := range r.Results() {
		if res.Status.Problem() {
			out = append(out, res)
		}
	}
	return out
}

// Notes are the results understood with a remark (a list without _meta).
func (r VerifyReport) Notes() []VerifyResult {
	var out []VerifyResult
	for _, res := range r.Reads {
		if res.NoMeta {
			out = append(out, res)
		}
	}
	return out
}

// FailedFor are the results that fail feature f (all features when f is
// ""): its endpoints that failed, and the token's failure, which fails
// every feature.
func (r VerifyReport) FailedFor(f Feature) []VerifyResult {
	var out []VerifyResult
	for _, res := range r.Results() {
		if res.Status.Failed() && (f == "" || slices.Contains(FeaturesOf(res.Endpoint), f)) {
			out = append(out, res)
		}
	}
	return out
}

// VerifyPlan is what a verification will spend, said before it runs.
type VerifyPlan struct {
	Connection string
	BaseURL    string
	Day        string // the platform day the quota counts belong to
	Reads      []PlannedRead
	Writes     []string // never called
}

// PlannedRead is one read-only endpoint in the plan.
type PlannedRead struct {
	Endpoint   string
	Calls      int // 1, or 0 when disabled or today's quota is used up
	CallsToday int
	DailyQuota int
	Disabled   bool
	// After are the endpoints whose answers give the id this read needs.
	After []string
	// NothingToRead: the read takes its id from the console's own records,
	// which hold none yet (sms.send_detail before any SMS send).
	NothingToRead bool
}

// Calls is the most calls the reads will make.
func (p VerifyPlan) Calls() int {
	n := 0
	for _, r := range p.Reads {
		n += r.Calls
	}
	return n
}

// verifier runs one verification against one client.
type verifier struct {
	client  *jing.Client
	smsTask func(ctx context.Context) (string, error) // the console's newest SMS task ("" none)

	mu  sync.Mutex
	got samples
}

func (v *verifier) sample() samples {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.got
}

func (v *verifier) update(f func(*samples)) {
	v.mu.Lock()
	f(&v.got)
	v.mu.Unlock()
}

// plan says what the verification will call, with today's counts against
// each daily quota.
func (v *verifier) plan(ctx context.Context) VerifyPlan {
	cat := v.client.Catalog()
	today := map[string]int{}
	for _, st := range v.client.Stats(ctx) {
		today[st.Endpoint.Key] = st.CallsToday
	}
	var p VerifyPlan
	for _, rc := range readChecks {
		ep, _ := cat.Get(rc.key)
		r := PlannedRead{Endpoint: rc.key, CallsToday: today[rc.key], DailyQuota: ep.DailyQuota, Disabled: ep.Disabled, After: rc.after}
		if rc.key == "sms.send_detail" {
			task, err := v.smsTask(ctx)
			r.NothingToRead = err == nil && task == ""
		}
		if !ep.Disabled && !r.NothingToRead && r.CallsToday < r.DailyQuota {
			r.Calls = 1
		}
		p.Reads = append(p.Reads, r)
	}
	p.Writes = writeEndpoints(v.client.Catalog())
	return p
}

// writeEndpoints are the catalog's endpoints that change the platform.
func writeEndpoints(cat jing.Catalog) []string {
	var out []string
	for _, e := range cat.All() {
		if e.Write {
			out = append(out, e.Key)
		}
	}
	return out
}

// run verifies every read: a token first, then the reads, each after the
// reads it takes an id from, a few at a time. Each request is sent once
// (no retries), so the calls are those the plan announced.
func (v *verifier) run(ctx context.Context) VerifyReport {
	ctx = jing.WithSingleAttempt(ctx)
	rep := VerifyReport{BaseURL: v.client.BaseURL(), Writes: writeEndpoints(v.client.Catalog())}
	rep.Token = v.token(ctx)
	results := make([]VerifyResult, len(readChecks))
	index := map[string]int{}
	done := map[string]chan struct{}{}
	for i, rc := range readChecks {
		index[rc.key], done[rc.key] = i, make(chan struct{})
	}
	slots := make(chan struct{}, verifyWorkers)
	var wg sync.WaitGroup
	for i, rc := range readChecks {
		wg.Go(func() {
			defer close(done[rc.key])
			var before []VerifyResult
			for _, a := range rc.after {
				<-done[a]
				before = append(before, results[index[a]])
			}
			slots <- struct{}{}
			defer func() { <-slots }()
			results[i] = v.verify(ctx, rc, rep.Token, before)
		})
	}
	wg.Wait()
	rep.Reads = results
	return rep
}

// token obtains a token (when the one held will not do): the step every read needs.
func (v *verifier) token(ctx context.Context) VerifyResult {
	start := time.Now()
	renewed, err := v.client.EnsureToken(ctx)
	res := VerifyResult{Status: VerifyUnderstood, DurationMS: time.Since(start).Milliseconds(),
		Detail: msg.New("platform.verify.token.held")}
	if renewed {
		res.Detail = msg.New("platform.verify.token.obtained")
	}
	if err != nil {
		res = failure(err)
		res.DurationMS = time.Since(start).Milliseconds()
		if res.Endpoint == "" {
			res.Endpoint = "oauth.token"
		}
	}
	return res
}

// verify runs one read and judges its outcome.
func (v *verifier) verify(ctx context.Context, rc readCheck, token VerifyResult, before []VerifyResult) VerifyResult {
	res := VerifyResult{Endpoint: rc.key}
	ep, _ := v.client.Catalog().Get(rc.key)
	switch {
	case ep.Disabled:
		res.Status, res.Detail = VerifyDisabled, msg.New("platform.verify.reason.disabled")
		return res
	case token.Status != VerifyUnderstood:
		res.Status, res.Detail = VerifySkipped, msg.New("platform.verify.reason.no_token")
		return res
	}
	if blocked, ok := unreadable(before); ok {
		res.Status, res.Detail = VerifySkipped, blocked
		return res
	}
	start := time.Now()
	callCtx, requestID := jing.CaptureRequestID(ctx)
	out, err := rc.read(callCtx, v)
	res.DurationMS, res.RequestID = time.Since(start).Milliseconds(), requestID()
	var none nothingToRead
	switch {
	case err == nil:
		res.Status = VerifyUnderstood
		if out.noMeta {
			res.NoMeta, res.Detail = true, msg.New("platform.verify.note.no_meta")
		}
	case errors.As(err, &none):
		res.Status, res.Detail = VerifySkipped, none.reason
	case len(rc.after) > 0 && jing.IsKind(err, jing.KindBusiness):
		// The platform found nothing by the id an earlier answer gave (a
		// person not known by a lead's mobile, say): nothing to judge.
		res.Status = VerifySkipped
		res.Detail = msg.New("platform.verify.nothing.by_id", msg.Str("From", rc.after[0]),
			msg.Nested("Error", mustMessage(err)))
	default:
		failed := failure(err)
		failed.Endpoint, failed.RequestID, failed.DurationMS = rc.key, res.RequestID, res.DurationMS
		return failed
	}
	return res
}

// unreadable says why a read cannot be made when none of the reads it
// takes an id from was understood (ok false: at least one was): they
// failed, or had nothing to give themselves.
func unreadable(before []VerifyResult) (msg.Message, bool) {
	if len(before) == 0 {
		return msg.Message{}, false
	}
	var names []string
	failed := false
	for _, b := range before {
		if b.Status == VerifyUnderstood {
			return msg.Message{}, false
		}
		names = append(names, b.Endpoint)
		failed = failed || b.Status.Problem()
	}
	id := "platform.verify.reason.after_none"
	if failed {
		id = "platform.verify.reason.after"
	}
	return msg.New(id, msg.Str("Endpoints", strings.Join(names, ", "))), true
}

// failure is the result of a call that failed: its status, and the error's
// own sentence (which names the endpoint, the field and the answer).
func failure(err error) VerifyResult {
	res := VerifyResult{Status: statusOf(err), Detail: mustMessage(err)}
	if e, ok := jing.AsError(err); ok {
		res.Endpoint, res.Field, res.RequestID = e.Endpoint, e.Field, e.RequestID
	}
	return res
}

// statusOf classifies a failed call.
func statusOf(err error) VerifyStatus {
	e, ok := jing.AsError(err)
	if !ok {
		return VerifyUnavailable
	}
	switch e.Kind {
	case jing.KindUnrecognised:
		return VerifyNotUnderstood
	case jing.KindInvalidPath:
		return VerifyNotFound
	case jing.KindPermission:
		return VerifyNotPermitted
	case jing.KindInvalid, jing.KindBusiness:
		return VerifyRefused
	case jing.KindDisabled:
		return VerifyDisabled
	case jing.KindQuota:
		return VerifyQuota
	case jing.KindAuth:
		return VerifyAuthFailed
	}
	return VerifyUnavailable
}

// mustMessage is err as a message of the catalogs: a platform error's own,
// or "no answer" for anything else (a timeout, a cancelled request).
func mustMessage(err error) msg.Message {
	if e, ok := jing.AsError(err); ok {
		return e.Message()
	}
	return msg.New("platform.verify.reason.no_answer")
}

// SummaryMessage lists the reads per status in summary order, as a
// message of the catalogs for the audit log ("understood 27, skipped 1").
func (r VerifyReport) SummaryMessage() msg.Message {
	counts := r.Counts()
	var parts []msg.Message
	if r.Token.Status.Problem() {
		parts = append(parts, msg.New("audit.summary.token_status", msg.Nested("Status", msg.New("platform.verify.status."+string(r.Token.Status)))))
	}
	for _, st := range VerifyStatuses {
		if n := counts[st]; n > 0 {
			parts = append(parts, msg.New("audit.summary.counted", msg.Nested("Name", msg.New("platform.verify.status."+string(st))), msg.Int("Count", int64(n))))
		}
	}
	return msg.Join(parts)
}

// Summary lists the reads per status in summary order, in words for the
// command line's output ("understood 27, skipped 1").
func (r VerifyReport) Summary() string {
	counts := r.Counts()
	var parts []string
	for _, st := range VerifyStatuses {
		if n := counts[st]; n > 0 {
			parts = append(parts, string(st)+" "+strconv.Itoa(n))
		}
	}
	if r.Token.Status.Problem() {
		parts = append([]string{"token " + string(r.Token.Status)}, parts...)
	}
	return strings.Join(parts, ", ")
}

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

// verifyPerPage is how many items a list read asks for: enough to check
// the shape of a few items, one call whatever the size of the tenant.
const verifyPerPage = 20

// verifyWorkers is how many reads run at once (each endpoint is paced by the client anyway).
const verifyWorkers = 4

// readCheck is how one read-only endpoint is verified: the call its
// feature makes, and the endpoints whose answers give it an id.
type readCheck struct {
	key   string
	after []string
	read  func(ctx context.Context, v *verifier) (readOutcome, error)
}

// readOutcome is what a read learned besides its error.
type readOutcome struct {
	noMeta bool // a list answered without _meta
}

// listOutcome notes whether a page came without _meta.
func listOutcome(info jing.PageInfo) readOutcome { return readOutcome{noMeta: !info.Meta.Known()} }

// nothingToRead is a read that was not made: no id to read by.
type nothingToRead struct{ reason msg.Message }

func (n nothingToRead) Error() string { return "nothing to read: " + n.reason.ID }

func nothing(id string, args ...msg.Arg) error { return nothingToRead{msg.New(id, args...)} }

// readChecks are every read-only endpoint of the catalog (a test holds
// this to the catalog), in the order reports list them.
var readChecks = []readCheck{
	{key: "members.list", read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		p, err := v.client.ListMembers(ctx, jing.PageRequest{Page: 1, PerPage: verifyPerPage})
		return listOutcome(p.Info()), err
	}},
	{key: "objects.business_types", read: readBusinessTypes},
	{key: "leads.status_list", after: []string{"objects.business_types"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		bt := v.sample().businessType
		if bt == "" {
			return readOutcome{}, nothing("platform.verify.nothing.business_type")
		}
		_, err := v.client.LeadStatuses(ctx, bt)
		return readOutcome{}, err
	}},
	{key: "objects.fields", after: []string{"objects.business_types"}, read: readFields},
	{key: "objects.option_set", after: []string{"objects.fields"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		code := v.sample().optionSetField
		if code == "" {
			return readOutcome{}, nothing("platform.verify.nothing.field", msg.Str("Type", jing.FieldOptionSet))
		}
		_, err := v.client.OptionSet(ctx, jing.ObjectLead, code)
		return readOutcome{}, err
	}},
	{key: "objects.source_options", after: []string{"objects.fields"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		code := v.sample().presetSelectField
		if code == "" {
			return readOutcome{}, nothing("platform.verify.nothing.field", msg.Str("Type", jing.FieldSelect))
		}
		_, err := v.client.SourceOptions(ctx, jing.ObjectLead, code)
		return readOutcome{}, err
	}},
	{key: "objects.custom_options", after: []string{"objects.fields"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		code := v.sample().customSelectField
		if code == "" {
			return readOutcome{}, nothing("platform.verify.nothing.custom_field")
		}
		_, err := v.client.CustomOptions(ctx, jing.ObjectLead, code)
		return readOutcome{}, err
	}},
	{key: "leads.list", read: readLeads},
	{key: "leads.query", after: []string{"leads.list"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		s := v.sample()
		if len(s.leads) == 0 {
			return readOutcome{}, nothing("platform.verify.nothing.leads")
		}
		_, err := v.client.QueryLead(ctx, jing.LeadKey{JingUUID: s.leads[0]})
		return readOutcome{}, err
	}},
	{key: "leads.detail_link", after: []string{"leads.list"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		s := v.sample()
		if len(s.leads) == 0 {
			return readOutcome{}, nothing("platform.verify.nothing.leads")
		}
		_, err := v.client.LeadDetailLink(ctx, s.leads[0])
		return readOutcome{}, err
	}},
	{key: "users.query", after: []string{"leads.list"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		s := v.sample()
		if len(s.identities) == 0 {
			return readOutcome{}, nothing("platform.verify.nothing.identity")
		}
		_, err := v.client.QueryPerson(ctx, s.identityType, s.identities[0])
		return readOutcome{}, err
	}},
	{key: "users.identity_batch", after: []string{"leads.list"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		s := v.sample()
		if len(s.identities) == 0 {
			return readOutcome{}, nothing("platform.verify.nothing.identity")
		}
		_, err := v.client.ResolveIdentities(ctx, s.identityType, s.identities)
		return readOutcome{}, err
	}},
	{key: "privacy.status", after: []string{"leads.list"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		s := v.sample()
		if len(s.identities) == 0 {
			return readOutcome{}, nothing("platform.verify.nothing.identity")
		}
		p, err := v.client.PrivacyStatus(ctx, s.identityType, s.identities[0], jing.PageRequest{Page: 1, PerPage: verifyPerPage})
		return listOutcome(p.Info()), err
	}},
	leadScores("scores.lead_identity", jing.ScoreIdentity),
	leadScores("scores.lead_active", jing.ScoreActivity),
	leadScores("scores.lead_intention", jing.ScoreIntention),
	{key: "crowds.list", read: readCrowds},
	{key: "crowds.detail", after: []string{"crowds.list"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		id := v.sample().groupID
		if id == 0 {
			return readOutcome{}, nothing("platform.verify.nothing.crowds")
		}
		_, err := v.client.CrowdDetail(ctx, id)
		return readOutcome{}, err
	}},
	{key: "crowds.users", after: []string{"crowds.list"}, read: readCrowdUsers},
	userScores("scores.user_identity", jing.ScoreIdentity),
	userScores("scores.user_active", jing.ScoreActivity),
	userScores("scores.user_intention", jing.ScoreIntention),
	{key: "sms.list", read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		p, err := v.client.ListSMS(ctx, jing.PageRequest{Page: 1, PerPage: verifyPerPage})
		return listOutcome(p.Info()), err
	}},
	{key: "sms.send_detail", read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		// The platform lists no SMS tasks: the one read is the console's own newest send.
		task, err := v.smsTask(ctx)
		if err != nil || task == "" {
			return readOutcome{}, nothing("platform.verify.nothing.sms_task")
		}
		d, err := v.client.SMSSendDetail(ctx, task, jing.PageRequest{Page: 1, PerPage: verifyPerPage})
		if jing.IsKind(err, jing.KindBusiness) { // a send of a sandbox reset since, say
			return readOutcome{}, nothing("platform.verify.nothing.sms_task_unknown", msg.Nested("Error", mustMessage(err)))
		}
		return listOutcome(d.Info()), err
	}},
	{key: "edm.mailboxes", read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		_, err := v.client.Mailboxes(ctx)
		return readOutcome{}, err
	}},
	{key: "edm.list", read: readEDMList},
	{key: "edm.detail", after: []string{"edm.list"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		id := v.sample().edmID
		if id == "" {
			return readOutcome{}, nothing("platform.verify.nothing.edm")
		}
		_, err := v.client.EDMDetail(ctx, id)
		return readOutcome{}, err
	}},
	{key: "edm.records", after: []string{"edm.list"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		id := v.sample().edmID
		if id == "" {
			return readOutcome{}, nothing("platform.verify.nothing.edm")
		}
		p, err := v.client.EDMRecords(ctx, id, jing.PageRequest{Page: 1, PerPage: verifyPerPage})
		return listOutcome(p.Info()), err
	}},
}

// ReadOnlyEndpoints are the endpoints a verification reads, in report order.
func ReadOnlyEndpoints() []string {
	out := make([]string, len(readChecks))
	for i, rc := range readChecks {
		out[i] = rc.key
	}
	return out
}

// samples are the ids earlier answers gave, for the reads that need one.
type samples struct {
	businessType      string // a lead business type (the default one)
	optionSetField    string // a lead field of type option_set
	presetSelectField string // a preset select field (its options: objects.source_options)
	customSelectField string // a custom select field (objects.custom_options)
	leads             []string
	identityType      string   // of identities: mobile, or email
	identities        []string // of the leads' persons
	leadPersons       []string // omni_user_uuids of the leads' persons
	groupID           int64    // a crowd, the fullest of the first page
	crowdPersons      []string // omni_user_uuids of its first members
	edmID             string   // an email send, a sent one when there is one
}

func readBusinessTypes(ctx context.Context, v *verifier) (readOutcome, error) {
	bts, err := v.client.BusinessTypes(ctx, jing.ObjectLead)
	if err != nil || len(bts) == 0 {
		return readOutcome{}, err
	}
	pick := bts[0]
	for _, bt := range bts {
		if bt.Default() {
			pick = bt
			break
		}
	}
	v.update(func(s *samples) { s.businessType = pick.JingUUID })
	return readOutcome{}, nil
}

func readFields(ctx context.Context, v *verifier) (readOutcome, error) {
	bt := v.sample().businessType
	if bt == "" {
		return readOutcome{}, nothing("platform.verify.nothing.business_type")
	}
	fields, err := v.client.Fields(ctx, jing.ObjectLead, bt)
	if err != nil {
		return readOutcome{}, err
	}
	v.update(func(s *samples) {
		for _, f := range fields {
			switch {
			case f.Type == jing.FieldOptionSet && s.optionSetField == "":
				s.optionSetField = f.Code
			case f.Type != jing.FieldSelect && f.Type != jing.FieldMultiSelect:
			case f.Custom() && s.customSelectField == "":
				s.customSelectField = f.Code
			// A preset select the API writes has its own options (the
			// derived ones and the pipeline's statuses are read elsewhere).
			case !f.Custom() && f.CanWrite() && f.Code != "lead_status" && f.Code != "business_type" && s.presetSelectField == "":
				s.presetSelectField = f.Code
			}
		}
	})
	return readOutcome{}, nil
}

func readLeads(ctx context.Context, v *verifier) (readOutcome, error) {
	p, err := v.client.ListLeads(ctx, jing.LeadFilter{}, jing.PageRequest{Page: 1, PerPage: verifyPerPage})
	if err != nil {
		return readOutcome{}, err
	}
	v.update(func(s *samples) {
		for _, l := range p.Items {
			s.leads = append(s.leads, l.JingUUID)
			if l.OmniUserUUID != "" {
				s.leadPersons = append(s.leadPersons, l.OmniUserUUID)
			}
		}
		// Identities of one type, mobiles first: what an import resolves.
		for _, typ := range []string{jing.IdentityMobile, jing.IdentityEmail} {
			for _, l := range p.Items {
				value := l.Mobile
				if typ == jing.IdentityEmail {
					value = l.Email
				}
				if value != "" && len(s.identities) < 5 {
					s.identityType, s.identities = typ, append(s.identities, value)
				}
			}
			if len(s.identities) > 0 {
				break
			}
		}
	})
	return listOutcome(p.Info()), nil
}

func readCrowds(ctx context.Context, v *verifier) (readOutcome, error) {
	p, err := v.client.ListCrowds(ctx, jing.CrowdListRequest{PageRequest: jing.PageRequest{Page: 1, PerPage: verifyPerPage}})
	if err != nil || len(p.Items) == 0 {
		return listOutcome(p.Info()), err
	}
	fullest := p.Items[0]
	for _, cr := range p.Items {
		if cr.UserCount > fullest.UserCount {
			fullest = cr
		}
	}
	v.update(func(s *samples) { s.groupID = fullest.GroupID })
	return listOutcome(p.Info()), nil
}

func readCrowdUsers(ctx context.Context, v *verifier) (readOutcome, error) {
	id := v.sample().groupID
	if id == 0 {
		return readOutcome{}, nothing("platform.verify.nothing.crowds")
	}
	p, err := v.client.CrowdUsers(ctx, id, jing.PageRequest{Page: 1, PerPage: verifyPerPage})
	if err != nil {
		return readOutcome{}, err
	}
	v.update(func(s *samples) {
		for _, m := range p.Items {
			s.crowdPersons = append(s.crowdPersons, m.OmniUserUUID)
		}
	})
	return listOutcome(p.Info()), nil
}

func readEDMList(ctx context.Context, v *verifier) (readOutcome, error) {
	p, err := v.client.ListEDM(ctx, jing.EDMListRequest{PageRequest: jing.PageRequest{Page: 1, PerPage: verifyPerPage}})
	if err != nil || len(p.Items) == 0 {
		return listOutcome(p.Info()), err
	}
	pick := p.Items[0]
	for _, e := range p.Items {
		if e.Status == "sent" { // it has records to read
			pick = e
			break
		}
	}
	v.update(func(s *samples) { s.edmID = pick.EDMID })
	return listOutcome(p.Info()), nil
}

func leadScores(key string, kind jing.ScoreKind) readCheck {
	return readCheck{key: key, after: []string{"leads.list"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		ids := v.sample().leads
		if len(ids) == 0 {
			return readOutcome{}, nothing("platform.verify.nothing.leads")
		}
		_, err := v.client.LeadScores(ctx, kind, ids)
		return readOutcome{}, err
	}}
}

// userScores reads persons' scores: a crowd's members, else the leads' persons.
func userScores(key string, kind jing.ScoreKind) readCheck {
	return readCheck{key: key, after: []string{"crowds.users", "leads.list"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		s := v.sample()
		ids := s.crowdPersons
		if len(ids) == 0 {
			ids = s.leadPersons
		}
		if len(ids) == 0 {
			return readOutcome{}, nothing("platform.verify.nothing.persons")
		}
		_, err := v.client.UserScores(ctx, kind, ids)
		return readOutcome{}, err
	}}
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

// Summary lists the reads per status in summary order, in words for the
// audit log ("understood 27, skipped 1").
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

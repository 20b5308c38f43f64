// Package sends renders the parts of a send's page that SMS and email
// share: its state in words, the test send, the confirmation with the
// frozen count, the second approval, the decision on an unknown outcome,
// the delivery counts (polled while sending), the per-recipient records
// and the timeline from the audit log; and the Settings → Sends page.
package sends

import (
	"context"
	"net/url"
	"strconv"

	"github.com/jingdesk/jingdesk/templates/ui"
)

// Send states (the ledger's, internal/db).
const (
	StateDraft            = "draft"
	StateAwaitingApproval = "awaiting_approval"
	StateApproved         = "approved"
	StateSubmitting       = "submitting"
	StateSubmitted        = "submitted"
	StateDone             = "done"
	StateUnknown          = "unknown"
	StateFailed           = "failed"
	StateCancelled        = "cancelled"
)

// Element ids the fragments replace.
const (
	PanelsID   = "send-panels"
	ConfirmID  = "send-confirm"
	DeliveryID = "send-delivery"
	RecordsID  = "send-records"
)

// PollEvery is how often the delivery fragment refreshes itself while a send is under way.
const PollEvery = "5s"

// Path is a shared action's address for send id ("" is the base).
func Path(id int64, action string) string {
	p := "/sends/" + i64(id)
	if action != "" {
		p += "/" + action
	}
	return p
}

// PagePath is a send's own page by channel.
func PagePath(channel string, id int64) string {
	if channel == "edm" {
		return "/email/sends/" + i64(id)
	}
	return "/sms/sends/" + i64(id)
}

// Counts are a send's delivery counts.
type Counts struct {
	Total, Sent, Delivered, Failed, Opened, Clicked, Bounced int64
}

// Event is one line of a send's timeline (an audit entry).
type Event struct {
	At        int64
	User      string
	Action    string
	Summary   string
	Outcome   string
	RequestID string
}

// Panels is the lifecycle part of one send's page.
type Panels struct {
	ID       int64
	Channel  string
	State    string
	Test     bool
	Now      int64
	CanAct   bool // marketer or administrator
	IsAuthor bool // created or confirmed it: may not approve it

	AudienceCount   int64
	CreatedByName   string
	CreatedAt       int64
	ConfirmedByName string
	ConfirmedAt     int64
	ApprovedByName  string
	ApprovedAt      int64
	SubmittedAt     int64
	UpdatedAt       int64
	SendTime        int64
	PlatformID      string
	Evidence        string // unknown: what the console found; draft: a rejection note
	LastError       string
	RequestID       string

	Delivery Delivery
	Timeline []Event

	Notice     string // a success line (e.g. the test send went)
	NoticeLink string
	Error      string // a refusal to show above the actions (a platform error's carries its request id)
}

// Delivery is the delivery fragment: polled every PollEvery until done.
type Delivery struct {
	ID             int64
	Channel        string
	State          string
	PlatformStatus string
	Counts         Counts
	CheckedAt      int64
	Now            int64
	SendTime       int64
	Reasons        []Reason
	Error          string // the last look at the platform failed (a platform error's carries its request id)
	CanSync        bool
	Synced         int // recipients copied so far
}

// Reason is how many recipients failed for one reason.
type Reason struct {
	Reason string
	Count  int64
}

// Polling reports whether the fragment keeps refreshing itself.
func (d Delivery) Polling() bool { return d.State == StateSubmitted }

// Confirm is the confirmation step of a draft.
type Confirm struct {
	ID            int64
	Channel       string
	Name          string
	Message       string // the SMS text with its signature, or the email's subject
	Sender        string
	Audience      string // crowds' names or "N pasted mobiles"
	Count         int64
	MustType      bool
	NeedsApproval bool
	SendTime      int64
	Typed         string
	Error         string
}

// Records is one page of a send's recipients.
type Records struct {
	ID        int64
	Channel   string
	Q         string
	Status    string
	Page      int
	Pages     int
	Total     int
	Rows      []Record
	CanExport bool
	CanSync   bool
	Submitted bool // there is something on the platform to copy
}

// Record is one recipient's outcome (masked for viewers).
type Record struct {
	Recipient, Status, Error string
	At                       int64
}

// RecordsPageSize is how many recipients a page shows.
const RecordsPageSize = 50

// URL is the records fragment for this search at page p.
func (r Records) URL(p int) string {
	v := url.Values{}
	if r.Q != "" {
		v.Set("q", r.Q)
	}
	if r.Status != "" {
		v.Set("status", r.Status)
	}
	if p > 1 {
		v.Set("page", strconv.Itoa(p))
	}
	u := Path(r.ID, "records")
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	return u
}

// CSVURL is the export of the same search.
func (r Records) CSVURL() string {
	v := url.Values{}
	if r.Q != "" {
		v.Set("q", r.Q)
	}
	if r.Status != "" {
		v.Set("status", r.Status)
	}
	u := Path(r.ID, "records.csv")
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	return u
}

// RecordStatuses are the statuses a recipient can have per channel.
func RecordStatuses(channel string) []string {
	if channel == "edm" {
		return []string{"delivered", "opened", "clicked", "bounced", "failed"}
	}
	return []string{"pending", "sent", "delivered", "failed"}
}

// invalid is a field's aria-invalid: whether it has an error.
func invalid(err string) string {
	if err != "" {
		return "true"
	}
	return "false"
}

// describedBy is what describes field: its hint, and its error when it has one.
func describedBy(field, err string) string {
	if err != "" {
		return field + "-hint " + field + "-error"
	}
	return field + "-hint"
}

// SettingsForm is the Settings → Sends form as typed.
type SettingsForm struct {
	TestMobiles      string
	TestEmails       string
	ConfirmTypeAbove string
	ApprovalAbove    string
	Errors           map[string]string
	Error            string
}

// StateBadge is the badge class of a state.
func StateBadge(state string) string {
	switch state {
	case StateDone, StateSubmitted:
		return "badge badge-success"
	case StateUnknown, StateAwaitingApproval:
		return "badge badge-warning"
	case StateFailed:
		return "badge badge-danger"
	case StateApproved, StateSubmitting:
		return "badge badge-info"
	}
	return "badge"
}

// StateName is a state in words.
func StateName(ctx context.Context, state string) string { return ui.T(ctx, "sends.state."+state) }

// Cancellable reports whether a send in this state can still be withdrawn.
func Cancellable(state string) bool {
	return state == StateDraft || state == StateAwaitingApproval || state == StateApproved
}

// HasDelivery reports whether the platform has the send.
func HasDelivery(state string) bool { return state == StateSubmitted || state == StateDone }

func i64(n int64) string { return strconv.FormatInt(n, 10) }

func itoa(n int) string { return strconv.Itoa(n) }

func boolStr(b bool) string { return strconv.FormatBool(b) }

func percent(part, whole int64) string {
	if whole <= 0 {
		return "0%"
	}
	return strconv.FormatFloat(float64(part)*100/float64(whole), 'f', 1, 64) + "%"
}

func dateAndAgo(ctx context.Context, now, at int64) string {
	if at == 0 {
		return "—"
	}
	return ui.DateTime(ctx, at) + " (" + ui.Ago(ctx, now, at) + ")"
}

// Package email holds the email (EDM) pages: the mailboxes and sends,
// the form that writes or changes a send, and one send with its preview.
package email

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jingdesk/jingdesk/templates/ui"
)

// Paths of the email pages.
const (
	ListPath = "/email"
	NewPath  = "/email/new"
)

// SendPath is one send's page; PreviewPath its HTML, served for the sandboxed frame.
func SendPath(id int64) string    { return "/email/sends/" + i64(id) }
func PreviewPath(id int64) string { return SendPath(id) + "/preview" }

// RemotePreviewPath is the preview that loads the email's remote images.
func RemotePreviewPath(id int64) string { return PreviewPath(id) + "?images=remote" }

// CancelPath is the shared step that cancels (deletes) a send.
func CancelPath(id int64) string { return "/sends/" + i64(id) + "/cancel" }

// Mailbox is a sender address; only a verified one can send.
type Mailbox struct {
	ID, Address, SenderName string
	Verified                bool
}

// Label is how a picker names it.
func (m Mailbox) Label() string {
	if m.SenderName == "" {
		return m.Address
	}
	return m.SenderName + " <" + m.Address + ">"
}

// List is the email page.
type List struct {
	Mailboxes    []Mailbox
	MailboxError string // the platform did not answer
	Sends        []Row
	CanCreate    bool
}

// Verified counts the mailboxes that can send.
func (l List) Verified() int {
	n := 0
	for _, m := range l.Mailboxes {
		if m.Verified {
			n++
		}
	}
	return n
}

// Row is one send in the list.
type Row struct {
	ID             int64
	Name, Subject  string
	Sender         string
	State          string // the ledger's state
	PlatformStatus string
	Crowds         []string
	Audience       int64
	SendTime       int64 // 0: at once
	SubmittedAt    int64
	Counts         Counts
}

// Counts are a send's delivery figures.
type Counts struct {
	Sent, Delivered, Opened, Clicked, Bounced int64
}

// FunnelWidth is the length, in SVG units, of the longest bar.
const FunnelWidth = 160

// FunnelGeometry is the length of each bar: proportional to its value,
// the largest value filling width. A total of zero (nothing sent yet)
// draws no bars; a value that is not zero is at least 1 unit long so it
// never looks like nothing. Negative values count as zero.
func FunnelGeometry(values []int64, width float64) []float64 {
	out := make([]float64, len(values))
	var top int64
	for _, v := range values {
		top = max(top, v)
	}
	if top <= 0 || width <= 0 {
		return out
	}
	for i, v := range values {
		if v <= 0 {
			continue
		}
		out[i] = max(float64(v)/float64(top)*width, 1)
	}
	return out
}

// Bar is one bar of the funnel as drawn.
type Bar struct {
	Key   string // sent | delivered | opened | clicked | bounced
	Value int64
	Width float64
	Y     int
}

// Funnel geometry of the SVG: rows of BarHeight with BarGap between,
// the labels in the first LabelWidth units.
const (
	BarHeight  = 14
	BarGap     = 5
	LabelWidth = 64
	ChartWidth = LabelWidth + FunnelWidth + 72
)

// Bars lays the funnel out: sent → delivered → opened → clicked, then bounced.
func (c Counts) Bars() []Bar {
	keys := []string{"sent", "delivered", "opened", "clicked", "bounced"}
	vals := []int64{c.Sent, c.Delivered, c.Opened, c.Clicked, c.Bounced}
	widths := FunnelGeometry(vals, FunnelWidth)
	out := make([]Bar, len(keys))
	for i := range keys {
		out[i] = Bar{Key: keys[i], Value: max(vals[i], 0), Width: widths[i], Y: i * (BarHeight + BarGap)}
	}
	return out
}

// Empty: nothing sent yet.
func (c Counts) Empty() bool { return c.Sent <= 0 && c.Delivered <= 0 && c.Bounced <= 0 }

// ChartHeight is the SVG's height for the five rows.
func ChartHeight() int { return 5*BarHeight + 4*BarGap }

// Crowd is a crowd the send can go to, with its member count from the local copy.
type Crowd struct {
	ID      int64
	Name    string
	Members int64
	Checked bool
}

// Form modes.
const (
	ModeNew       = "new"       // a new draft
	ModeDraft     = "draft"     // changing a draft
	ModeScheduled = "scheduled" // changing a scheduled send on the platform
)

// Form writes a new send or changes one, keeping what was typed after a refusal.
type Form struct {
	Mode      string
	ID        int64
	Name      string
	Subject   string
	MailboxID string
	HTML      string
	When      string // "now" | "at"
	At        string // datetime-local value in the console's zone
	Zone      string // the zone's name, shown next to the time
	Mailboxes []Mailbox
	Crowds    []Crowd
	Error     string
	Field     string // the field the error is about, if one
	FileNote  string // the uploaded file's content was moved into the box
	Open      bool   // the edit form starts open (after a refusal)
}

// Action is where the form posts.
func (f Form) Action() string {
	if f.Mode == ModeNew {
		return ListPath
	}
	return SendPath(f.ID)
}

// Invalid reports whether field is the one refused.
func (f Form) Invalid(field string) bool { return f.Field == field }

// Send is one send: what it says, to whom, when; the preview; the
// lifecycle panels of the shared send steps; and, while it can change, the form.
type Send struct {
	Row
	MailboxID string
	Form      *Form // nil: it can no longer change, or the user cannot
	CanCancel bool  // a scheduled send the platform has not started
	HasHTML   bool
	HTMLBytes int
	// RemoteImages: this view asked to load the email's remote images.
	RemoteImages bool
}

// Scheduled reports a send waiting on the platform for its time.
func (r Row) Scheduled() bool { return r.State == "submitted" && r.PlatformStatus == "scheduled" }

func i64(n int64) string { return strconv.FormatInt(n, 10) }
func itoa(n int) string  { return strconv.Itoa(n) }

// f1 writes an SVG length.
func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// KB is a size in kilobytes, one decimal.
func KB(n int) string { return fmt.Sprintf("%.1f", float64(n)/1024) }

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func joinNames(names []string) string { return strings.Join(names, "、") }

// stateKey names where a send is: the ledger's state, with a submitted
// send told apart by what the platform says (scheduled, sending).
func stateKey(r Row) string {
	if r.State == "submitted" {
		switch r.PlatformStatus {
		case "scheduled":
			return "scheduled"
		case "sent":
			return "done"
		}
		return "sending"
	}
	return r.State
}

func stateClass(r Row) string {
	switch stateKey(r) {
	case "done":
		return "badge-success"
	case "failed", "unknown":
		return "badge-danger"
	case "awaiting_approval":
		return "badge-warning"
	case "scheduled", "sending", "submitting", "approved":
		return "badge-info"
	}
	return ""
}

// funnelTitle is the chart's text alternative: every figure in words.
func funnelTitle(ctx context.Context, c Counts) string {
	if c.Empty() {
		return ui.T(ctx, "email.funnel.none")
	}
	return ui.T(ctx, "email.funnel.title", "Sent", ui.Num(ctx, c.Sent), "Delivered", ui.Num(ctx, c.Delivered),
		"Opened", ui.Num(ctx, c.Opened), "Clicked", ui.Num(ctx, c.Clicked), "Bounced", ui.Num(ctx, c.Bounced))
}

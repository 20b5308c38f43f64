package leads

import (
	"context"

	"github.com/a-h/templ"
	"net/url"
	"strconv"

	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/templates/forms"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// The lead page (GET /leads/:uuid): the local copy's view of one lead,
// with the platform's own data (privacy consent, scores, the link to the
// lead on the platform) loaded by fragments after the page.

// LeadPath (list.go) is a lead's page; its fragments and writes live under it.

// LeadPage is the whole page.
type LeadPage struct {
	UUID         string
	Name         string
	Company      string
	BusinessType string // the business type's name
	Status       string // the status's name
	// Position is the status's place in the pipeline (1-based) of Steps;
	// 0 when the status is not in the reference data's pipeline.
	Position, Steps int
	Owner           string // the owner's name ("" when unassigned)
	Collaborators   []Choice
	Voided          bool
	UpdatedAt       int64 // the platform's updated_timestamp: "seen" of the writes
	SyncedAt        int64
	Now             int64
	Fields          []FieldRow
	Timeline        Timeline // the first page (issue 20)
	// CanEdit: marketers and administrators change the owner and the
	// collaborators; OwnerID, Members and CollaboratorIDs feed the forms.
	CanEdit         bool
	OwnerID         string
	Members         []Choice
	CollaboratorIDs []string
	// Notes is the Notes card: the latest remark and its form.
	Notes Notes
	// Error and Notice answer a refused or stale write.
	Error, Notice string
	// LiveSeq and LiveRev (issue 9): the change log's seq when the page
	// was drawn and the lead's revision; the page polls for changes after
	// the seq and tells when the revision differs.
	LiveSeq int64
	LiveRev string
}

// NoteMax is the longest note the "Add a note" form takes, in characters
// (the leads service refuses a longer one).
const NoteMax = leads.NoteMax

// Notes is the Notes card (also the answer of POST NotesPath for htmx):
// the lead's latest remark from the local copy and, for marketers and
// administrators, the form that sends a new one as latest_remark.
type Notes struct {
	UUID    string
	Latest  string // the latest remark; "" when the lead has none
	CanEdit bool
	Seen    int64  // the updated_timestamp the form was drawn from
	Text    string // the note typed, kept when it was not written
	// Error (refusal, validation), Notice (changed upstream) and Success
	// answer a post.
	Error, Notice, Success string
}

// NotesPath is where a lead's notes are posted.
func NotesPath(uuid string) string { return LeadPath(uuid) + "/notes" }

func noteMaxStr() string { return strconv.Itoa(NoteMax) }

// FieldRow is one field of the lead with its value as text.
type FieldRow struct {
	Code, Label string
	Values      []string // names, paths or the values themselves
	Masked      bool     // contact data hidden from viewers
	Custom      bool
	Link        string // the value's own page (所属客户: the account's)
}

// Privacy is the privacy-consent card's fragment.
type Privacy struct {
	Identity string // "mobile", "email"; "" when the lead has neither
	Policies []PrivacyRow
	NoRecord bool   // the platform knows no consent of this person
	Error    string // the platform's error, translated
}

// PrivacyRow is one policy and the versions the person authorised.
type PrivacyRow struct {
	Title      string
	Versions   []PrivacyVersion
	Authorized bool // some version authorised
}

// PrivacyVersion is one version of a policy.
type PrivacyVersion struct {
	Version    int
	Authorized bool
	At         int64 // the version's timestamp (when the record last changed)
}

// Scores is the scores card's fragment.
type Scores struct {
	Identity  []ScoreRow
	Activity  []ScoreRow
	Intention []ScoreRow
	Error     string
	// Cached: the rows are the console's cache (shown with Error, when the
	// platform could not be asked now).
	Cached bool
}

// ScoreRow is one score.
type ScoreRow struct {
	Model string
	Score float64
	Grade string
	Level string
	// Trend is the score's history as a small line (nil: none); Points
	// counts the history's values.
	Trend  templ.Component
	Points int
}

// Link is the "View on the platform" fragment.
type Link struct {
	UUID  string
	URL   string
	Error string
}

func joinValues(v []string) string {
	out := ""
	for i, s := range v {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func fmtScore(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// levelName is a score level in words (an unknown level as the platform wrote it).
func levelName(ctx context.Context, level string) string {
	switch level {
	case "hot", "warm", "cold", "inactive", "high", "medium", "low":
		return ui.T(ctx, "leads.page.level."+level)
	case "":
		return "—"
	}
	return level
}

// LeadForm is the create or edit form of a lead, built from the fields of
// its business type (web/fields.go).
type LeadForm struct {
	New          bool   // creating: POST NewLeadPath; else editing UUID
	UUID         string // editing
	Name         string // editing: the lead's name, for the title
	BusinessType string // the business type's id
	TypeName     string // its name
	Seen         int64  // editing: the updated_timestamp the form was drawn from
	Fields       []forms.FieldInput
	Error        string // the form's error, above the fields
}

// NewLeadPath is the create form.
const NewLeadPath = "/leads/new"

// NewLeadURL is the create form of a business type.
func NewLeadURL(businessType string) string {
	if businessType == "" {
		return NewLeadPath
	}
	return NewLeadPath + "?business_type=" + url.QueryEscape(businessType)
}

// EditPath is a lead's edit form.
func EditPath(uuid string) string { return LeadPath(uuid) + "/edit" }

// Action is where the form posts.
func (f LeadForm) Action() string {
	if f.New {
		return NewLeadURL(f.BusinessType)
	}
	return EditPath(f.UUID)
}

func formTitle(ctx context.Context, f LeadForm) string {
	if f.New {
		return ui.T(ctx, "leads.page.form.new_title")
	}
	return ui.T(ctx, "leads.page.form.edit_title", "Name", f.Name)
}

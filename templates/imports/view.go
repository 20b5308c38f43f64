// Package imports renders the import wizard: the history of imports, the
// upload form, the decode and mapping step, the validation summary with the
// target form, and the live progress and result of a running import.
package imports

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/jingdesk/jingdesk/internal/crowds"
	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/internal/importfile"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// Stages of an import (db.Import*).
const (
	StageUploaded  = "uploaded"
	StageValidated = "validated"
	StageStarted   = "started"
)

// Status is what the history and the progress panel say about an import.
type Status struct {
	Key   string // imports.status.<Key>, or a job state
	Until int64  // waiting until (a paused job that resumes by itself)
}

// HistoryRow is one import in the history table.
type HistoryRow struct {
	ID        int64
	FileName  string
	Owner     string
	CreatedAt int64
	CrowdID   int64
	CrowdName string
	Status    Status
	Started   bool
	Imported  int64
	Already   int64
	NotFound  int64
	Invalid   int64
	Failed    int64
}

// List is the history page.
type List struct {
	Rows      []HistoryRow
	CanCreate bool
}

// Upload is the upload page.
type Upload struct {
	MaxSize string // the upload limit, as FileSize says it
	Error   string
}

// Option is one choice of a select.
type Option struct {
	Value, Label string
	Selected     bool
}

// PreviewRow is one decoded row of the file. A row that cannot be split
// into cells has a Problem (a reason code) and its Text.
type PreviewRow struct {
	Row     int
	Fields  []string
	Problem string
	Text    string
}

// Previous is an earlier import of the same file.
type Previous struct {
	ID        int64
	Owner     string
	StartedAt int64
	CrowdID   int64
	CrowdName string
}

// Column is one column of the mapping step.
type Column struct {
	Index  int
	Header string
	Role   string
}

// ReasonCount is how many rows validation refused for one reason.
type ReasonCount = crowds.ReasonCount

// CrowdOption is a local crowd the import may go into.
type CrowdOption struct {
	ID      int64
	Name    string
	Members int64
}

// CrowdChoice is the target step's crowd picker: the crowds as last
// copied from the platform, how fresh that copy is, and the choice made.
type CrowdChoice struct {
	ID        int64 // the import
	Crowds    []CrowdOption
	Selected  string // "new" or a crowd id
	AsOf      int64  // when the list was last copied (0: never)
	Syncing   bool   // a refresh from the platform is under way
	LastError string
}

// Estimate is what each phase of an import will take, before it starts.
type Estimate struct {
	Phases  []EstimatePhase
	Seconds int64 // in all
}

// EstimatePhase is one phase's estimate.
type EstimatePhase struct {
	Name     string // lookup, create, crowd
	Items    int64
	Calls    int64
	Seconds  int64
	UpTo     bool // at most (create: only those the platform does not know)
	OneByOne bool // one person per call: the batch endpoint is disabled
}

// Validating is a validation running as a job.
type Validating struct {
	ID          int64
	Row         int64 // the last row read so far
	Percent     int64
	PerMinute   int64 // rows a minute
	SecondsLeft int64
	CanCancel   bool
}

// Phase is one phase of a started import, as the progress panel shows it.
type Phase struct {
	Name        string // lookup, create, crowd
	State       string // waiting, current, done
	Skip        bool
	Done, Total int64
	PerMinute   int64
	SecondsLeft int64
	Took        int64
	OneByOne    bool
}

// TargetForm is the user's choice of target, kept across a refused start
// (the crowds service reads it: crowds.Choice.Target).
type TargetForm = crowds.Choice

// Facts are what the history keeps of an import.
type Facts struct {
	Owner         string
	CreatedAt     int64
	StartedAt     int64
	FileName      string
	FileSize      int64
	Format        string
	Encoding      string
	Delimiter     string
	Sheet         string
	Mapping       []Column
	Identity      string
	CrowdID       int64
	CrowdName     string
	CrowdNew      bool
	CreateMissing bool
}

// Wizard is one import's page at its stage.
type Wizard struct {
	ID       int64
	Stage    string
	FileName string
	FileSize int64
	CanEdit  bool // may change, validate, start or discard it
	Previous []Previous

	// Decode and map (uploaded).
	IsXLSX      bool
	Encodings   []Option
	Delimiters  []Option
	Sheets      []Option
	OtherSheets string // the workbook's other sheets, described
	HeaderRows  []Option
	HeaderRow   int
	TitleRows   []PreviewRow // the rows above the header
	Header      []string
	Rows        []PreviewRow
	ReadError   string
	Columns     []Column
	Identities  []Option // match roles mapped to a column
	Identity    string
	MapError    string
	Validating  *Validating // a validation job under way
	Notice      string      // how the last validation job ended, when it did not finish

	// Summary and target (validated).
	Total, Empty, Valid, Invalid, Duplicate int64
	Title, Lines, Multiline                 int64
	MultilineRows                           string
	Reasons                                 []ReasonCount
	Crowds                                  CrowdChoice
	Estimate                                Estimate
	Target                                  TargetForm
	CanCreateMissing                        bool
	TargetError                             string
	TargetErrorRef                          string
	AgainNeeded                             bool
	Mapping                                 []Column // as validated

	// Progress and result (started).
	Progress    Progress
	Facts       Facts
	CanDownload bool
}

// Batch is one crowd import call and the platform's answer.
type Batch struct {
	At                    int64
	Size, Success, Errors int64
}

// Progress is the live panel of a started import (and its result once finished).
type Progress struct {
	ID          int64
	Live        bool // the job is unfinished: the panel polls
	Finished    bool
	JobState    string
	Requested   string
	Phase       string
	Total       int64
	Processed   int64
	Percent     int64
	Imported    int64
	Already     int64
	NotFound    int64
	Failed      int64
	Waiting     int64
	Invalid     int64
	Duplicate   int64
	PerMinute   int64
	SecondsLeft int64
	Phases      []Phase
	Batches     []Batch
	WaitUntil   int64
	WaitReason  string
	Error       string
	Notice      string
	CanPause    bool
	CanResume   bool
	CanCancel   bool
	CanDownload bool
	// RowsPrunedAt is when the rows were deleted past their retention
	// (the counts stay; nothing left to download); 0 while they are there.
	RowsPrunedAt int64
}

// Path is an import's address, or one of its actions'.
func Path(id int64, action string) string {
	if action == "" {
		return fmt.Sprintf("/imports/%d", id)
	}
	return fmt.Sprintf("/imports/%d/%s", id, action)
}

// Limits the platform puts on a new crowd's name and description.
const (
	CrowdNameMax        = crowds.CrowdNameMax
	CrowdDescriptionMax = crowds.CrowdDescriptionMax
)

// crowdValue is a crowd's option value.
func crowdValue(id int64) string { return strconv.FormatInt(id, 10) }

// RowsPath is the download of one category of rows.
func RowsPath(id int64, category string) string {
	return Path(id, "rows.csv") + "?category=" + url.QueryEscape(category)
}

func crowdPath(id int64) string { return fmt.Sprintf("/crowds/%d", id) }

func num(ctx context.Context, n int64) string { return ui.Num(ctx, n) }

func itoa(n int) string { return strconv.Itoa(n) }

// RoleLabel is a column role's name ("" is "do not use").
func RoleLabel(ctx context.Context, role string) string {
	if role == "" {
		return ui.T(ctx, "imports.role.ignore")
	}
	return ui.T(ctx, "imports.role."+role)
}

// statusLabel is the words for an import's status.
func statusLabel(ctx context.Context, s Status) string {
	if s.Until > 0 {
		return ui.T(ctx, "imports.status.waiting_until", "Time", ui.DateTime(ctx, s.Until))
	}
	return ui.T(ctx, "imports.status."+s.Key)
}

func statusClass(s Status) string {
	switch {
	case s.Until > 0 || s.Key == "paused":
		return "badge badge-warning"
	case s.Key == "running" || s.Key == "queued":
		return "badge badge-info"
	case s.Key == "done":
		return "badge badge-success"
	case s.Key == "failed" || s.Key == "cancelled":
		return "badge badge-danger"
	}
	return "badge"
}

// FileSize reads a byte count as people do (the words are the crowds
// service's, which says the upload limit in the same way).
func FileSize(ctx context.Context, n int64) string {
	return i18n.FromContext(ctx).Message(crowds.FileSize(n))
}

// reasonCodes are the reasons the console words itself; any other reason
// is the platform's own words.
var reasonCodes = []string{importfile.ReasonEmpty, importfile.ReasonMobileFormat, importfile.ReasonEmailFormat,
	importfile.ReasonIDFormat, importfile.ReasonMobileRounded, importfile.ProblemQuote, importfile.ProblemTooLong,
	importfile.ProblemTooWide, "unknown_person", "refused_by_crowd", "no_answer"}

// ReasonLabel is a validation or platform reason in the reader's words.
func ReasonLabel(ctx context.Context, reason string) string {
	if slices.Contains(reasonCodes, reason) {
		return ui.T(ctx, "imports.reason."+reason)
	}
	return reason
}

func reasonLabel(ctx context.Context, reason string) string { return ReasonLabel(ctx, reason) }

// Duration is a time to wait as people say it.
func Duration(ctx context.Context, seconds int64) string {
	switch {
	case seconds < 60:
		return ui.T(ctx, "imports.duration_seconds", "N", max(seconds, 1))
	case seconds < 3600:
		return ui.T(ctx, "imports.duration_minutes", "N", (seconds+59)/60)
	}
	minutes := (seconds + 59) / 60
	return ui.T(ctx, "imports.duration_hours", "H", minutes/60, "M", minutes%60)
}

// rowCells is a header choice's label: its row and its first cells.
func RowCells(ctx context.Context, r PreviewRow) string {
	var cells []string
	for _, f := range r.Fields {
		if f != "" {
			cells = append(cells, f)
		}
	}
	if r.Problem != "" {
		cells = []string{r.Text}
	}
	if len(cells) == 0 {
		return ui.T(ctx, "imports.header_row_empty", "Row", r.Row)
	}
	text := strings.Join(cells, " | ")
	if len([]rune(text)) > 60 {
		text = string([]rune(text)[:60]) + "…"
	}
	return ui.T(ctx, "imports.header_row_option", "Row", r.Row, "Cells", text)
}

func phasePercent(p Phase) int64 {
	switch {
	case p.State == "done":
		return 100
	case p.Total == 0:
		return 0
	}
	return min(100, p.Done*100/p.Total)
}

func i64(n int64) string { return strconv.FormatInt(n, 10) }

// rate is rows per second from the jobs page's per-minute measure.
func rate(perMinute int64) string {
	return strconv.FormatFloat(float64(perMinute)/60, 'f', 1, 64)
}

func pollTrigger(live bool) string {
	if live {
		return "every 1s"
	}
	return ""
}

func percentText(p Progress) string { return strconv.FormatInt(p.Percent, 10) + "%" }

func delimiterLabel(ctx context.Context, d string) string {
	switch d {
	case ",":
		return ui.T(ctx, "imports.delimiter.comma")
	case ";":
		return ui.T(ctx, "imports.delimiter.semicolon")
	case "\t":
		return ui.T(ctx, "imports.delimiter.tab")
	}
	return d
}

// EncodingLabel names an encoding.
func EncodingLabel(ctx context.Context, enc string) string {
	if enc == "" {
		return ""
	}
	return ui.T(ctx, "imports.encoding."+enc)
}

// DelimiterLabel names a delimiter.
func DelimiterLabel(ctx context.Context, d string) string { return delimiterLabel(ctx, d) }

func stepClass(current, step int) string {
	switch {
	case step < current:
		return "done"
	case step == current:
		return "current"
	}
	return ""
}

func stageStep(stage string) int {
	switch stage {
	case StageUploaded:
		return 2
	case StageValidated:
		return 3
	}
	return 4
}

func colName(i int) string { return "col_" + strconv.Itoa(i) }

func phaseLabel(ctx context.Context, phase string) string {
	switch phase {
	case "", "create", "members", "import", "done", "lookup", "crowd":
	default:
		return phase
	}
	if phase == "" {
		phase = "resolve"
	}
	return ui.T(ctx, "imports.phase."+phase)
}

// roles are the roles a column may take, in the mapping step's order.
func roles() []string { return importfile.Roles }

func field(fields []string, i int) string {
	if i < 0 || i >= len(fields) {
		return ""
	}
	return fields[i]
}

// toneIf colours a count only when there is something to see.
func toneIf(tone string, n int64) string {
	if n == 0 {
		return ""
	}
	return tone
}

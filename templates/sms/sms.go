// Package sms renders the SMS pages: the approved messages with their
// length in message parts, the sends, the draft form with a live preview,
// and a send's page (its message and audience above the shared lifecycle).
package sms

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/a-h/templ"
)

// Paths of the SMS pages.
const (
	ListPath = "/sms"
	NewPath  = "/sms/new"
)

// SendPath is a send's page.
func SendPath(id int64) string { return "/sms/sends/" + i64(id) }

// ConsentPath is where the consent check of a draft is asked for.
func ConsentPath(id int64) string { return SendPath(id) + "/consent" }

// ConsentPollPath is the consent fragment, polled while the check runs.
func ConsentPollPath(id, job int64) string {
	return SendPath(id) + "?fragment=consent&job=" + i64(job)
}

// Parts is how many messages an SMS of this text is billed as: up to 70
// characters is one; longer texts are split in parts of 67 (the usual
// rule of China's carriers, each part carrying a header). Characters are
// counted as runes (Chinese characters and ASCII alike).
func Parts(text string) (chars, parts int) {
	chars = utf8.RuneCountInString(text)
	switch {
	case chars == 0:
		return 0, 0
	case chars <= 70:
		return chars, 1
	}
	return chars, (chars + 66) / 67
}

// Segment is a piece of a message: plain text or a {variable}.
type Segment struct {
	Text     string
	Variable bool
}

// Segments splits a message into text and {variables}.
func Segments(content string) []Segment {
	var out []Segment
	for content != "" {
		i := strings.IndexByte(content, '{')
		if i < 0 {
			out = append(out, Segment{Text: content})
			break
		}
		j := strings.IndexByte(content[i:], '}')
		if j < 0 {
			out = append(out, Segment{Text: content})
			break
		}
		name := content[i+1 : i+j]
		if name == "" || strings.ContainsAny(name, " {\n") {
			out = append(out, Segment{Text: content[:i+1]})
			content = content[i+1:]
			continue
		}
		if i > 0 {
			out = append(out, Segment{Text: content[:i]})
		}
		out = append(out, Segment{Text: content[i : i+j+1], Variable: true})
		content = content[i+j+1:]
	}
	return out
}

// Fill replaces the {variables} a person's values name; others stay.
func Fill(content string, values map[string]string) []Segment {
	segs := Segments(content)
	for i, s := range segs {
		if !s.Variable {
			continue
		}
		if v, ok := values[strings.Trim(s.Text, "{}")]; ok {
			segs[i] = Segment{Text: v, Variable: true}
		}
	}
	return segs
}

// Message is an approved message.
type Message struct {
	ID        string
	Name      string
	Signature string
	Text      string // as received: signature and content
	Chars     int
	Parts     int
	Preview   []Segment // filled for the example person
}

// SendRow is one send in the list.
type SendRow struct {
	ID          int64
	Name        string
	State       string
	Audience    int64
	CreatedBy   string
	CreatedAt   int64
	Sent        int64
	Delivered   int64
	Failed      int64
	HasDelivery bool
}

// List is the SMS page.
type List struct {
	Now         int64
	CanEdit     bool
	Messages    []Message
	MessagesErr string
	Sends       []SendRow
}

// CrowdChoice is a crowd the audience can be.
type CrowdChoice struct {
	ID      int64
	Name    string
	Members int64
	Checked bool
}

// Form is the draft form as typed.
type Form struct {
	ID          int64 // 0: a new draft
	Name        string
	SMSID       string
	Audience    string // "crowds" or "mobiles"
	Crowds      []CrowdChoice
	MobilesText string
	ValidCount  int
	Invalid     []string
	When        string // "now" or "later"
	SendAt      string // datetime-local, in the console's zone
	Zone        string
	Messages    []Message
	Error       string
	Field       string // the field Error is about, if one
	Example     string // who the preview is filled for
	MessagesErr string
}

// Refused reports whether field is the one the error is about.
func (f Form) Refused(field string) bool { return f.Field == field }

// Selected reports whether the message is the one chosen.
func (f Form) Selected(id string) bool { return f.SMSID == id }

// Action is where the form posts.
func (f Form) Action() string {
	if f.ID == 0 {
		return ListPath
	}
	return SendPath(f.ID)
}

// Page is one send's page.
type Page struct {
	Now       int64
	ID        int64
	Name      string
	State     string
	Test      bool
	Message   Message
	Crowds    []CrowdChoice
	Mobiles   int
	Excluded  []string
	Size      int64
	SendTime  int64
	SentAt    int64 // when the platform accepted it; 0 before
	CanEdit   bool
	Form      *Form // the edit form of a draft (marketers)
	Consent   Consent
	Lifecycle templ.Component
}

// Consent is the privacy-consent check of a draft's pasted list.
type Consent struct {
	ID       int64
	Listed   bool // the audience is a pasted list
	Draft    bool
	CanRun   bool
	JobID    int64
	Running  bool
	Done     int64
	Total    int64
	Failed   string
	Checked  bool // a check has finished
	Excluded []string
}

func i64(n int64) string { return strconv.FormatInt(n, 10) }

func itoa(n int) string { return strconv.Itoa(n) }

// ariaInvalid is an aria-invalid value.
func ariaInvalid(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

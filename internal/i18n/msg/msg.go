// Package msg is a sentence that has not been translated yet: a message id
// of the i18n catalogs and its parameters. Packages that know what happened
// but not who will read it (the platform client, background jobs) return
// one; the page that shows it renders it in the reader's language
// (i18n.Localizer.Message). Stored in the database it is Encoded, so a job's
// failure recorded at night reads in Chinese to one user and in English to
// another. It depends on nothing, so any package may use it.
package msg

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Message is a message id and its parameters.
type Message struct {
	ID   string `json:"id"`
	Args []Arg  `json:"args,omitempty"`
}

// Arg is one named parameter. Exactly one of its values is set; the
// renderer formats each kind for the reader (a time in their zone and
// language, a number with their separators, a nested message translated).
type Arg struct {
	Name string   `json:"n"`
	Text string   `json:"s,omitempty"`
	Time int64    `json:"t,omitempty"` // Unix seconds
	Num  *int64   `json:"i,omitempty"`
	Msg  *Message `json:"m,omitempty"`
}

// New is the message id with args.
func New(id string, args ...Arg) Message { return Message{ID: id, Args: args} }

// IsZero reports a message without an id.
func (m Message) IsZero() bool { return m.ID == "" }

// Str is a text parameter, shown as it is (an endpoint, the platform's own words).
func Str(name, v string) Arg { return Arg{Name: name, Text: v} }

// Time is a moment, shown in the reader's zone and language.
func Time(name string, t time.Time) Arg { return Arg{Name: name, Time: t.Unix()} }

// Int is a count, shown with the reader's separators.
func Int(name string, n int64) Arg { return Arg{Name: name, Num: &n} }

// Nested is a sentence inside another, translated with it.
func Nested(name string, m Message) Arg { return Arg{Name: name, Msg: &m} }

// With returns m with more parameters.
func (m Message) With(args ...Arg) Message {
	m.Args = append(append([]Arg(nil), m.Args...), args...)
	return m
}

// storedPrefix marks an encoded message among plain stored texts (older
// rows hold English prose, which is shown as it is).
const storedPrefix = "i18n:"

// Encode is m as stored text; Decode reads it back.
func (m Message) Encode() string {
	b, err := json.Marshal(m)
	if err != nil { // a Message always encodes; be safe anyway
		return m.ID
	}
	return storedPrefix + string(b)
}

// Decode reads a stored text: ok is false for plain text.
func Decode(s string) (Message, bool) {
	rest, found := strings.CutPrefix(s, storedPrefix)
	if !found || !strings.HasPrefix(rest, "{") {
		return Message{}, false
	}
	var m Message
	if err := json.Unmarshal([]byte(rest), &m); err != nil || m.ID == "" {
		return Message{}, false
	}
	return m, true
}

// Carrier is an error (or anything) that can say itself as a Message.
type Carrier interface {
	Message() Message
}

// FromError is err as a message: the one it carries (a platform error
// does), or else its text as it is (Go's English) under "error.text".
func FromError(err error) Message {
	var c Carrier
	if errors.As(err, &c) {
		return c.Message()
	}
	return New("error.text", Str("Text", err.Error()))
}

// ErrorText is err as stored text: an encoded message where err carries
// one, its plain text otherwise.
func ErrorText(err error) string {
	var c Carrier
	if errors.As(err, &c) {
		return c.Message().Encode()
	}
	return err.Error()
}

// Kind is what sort of refusal an Error is; the web layer picks the HTTP
// status from it, so a service says "invalid" without knowing HTTP.
type Kind int

const (
	Invalid     Kind = iota + 1 // the input is wrong: the user corrects it (422)
	Conflict                    // the thing's state does not allow it now (409)
	Forbidden                   // not this user's to do (403)
	NotFound                    // it is not there (any more) (404)
	Unavailable                 // it cannot be done on this server now (503)
)

var kindNames = [...]string{"", "invalid", "conflict", "forbidden", "not found", "unavailable"}

func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "refused"
}

// Error is a refusal a person reads: its kind, its sentence as a Message,
// and the form field it is about. A service returns one where it refuses
// (often as a sentinel: var ErrNoName = msg.Refuse(msg.Invalid,
// "sends.error.no_name").On("name")), and the web layer renders it in the
// reader's language in one place; errors.Is works on the sentinel, and on
// Cause when the refusal stands for a lower error.
type Error struct {
	Kind  Kind
	Msg   Message
	Field string // the form field it is about; "" for the whole request
	Cause error  // the lower error this refusal stands for, if any
}

// Refuse is a refusal of kind with the message id and args.
func Refuse(kind Kind, id string, args ...Arg) *Error {
	return &Error{Kind: kind, Msg: New(id, args...)}
}

// On returns a copy of e about a form field.
func (e *Error) On(field string) *Error {
	c := *e
	c.Field = field
	return &c
}

// Because returns a copy of e standing for cause (errors.Is sees it).
func (e *Error) Because(cause error) *Error {
	c := *e
	c.Cause = cause
	return &c
}

// Message makes an Error a Carrier: the sentence the user reads.
func (e *Error) Message() Message { return e.Msg }

// Unwrap is the cause, if any.
func (e *Error) Unwrap() error { return e.Cause }

// Error is for logs and the command line: the kind and the message id
// with its text parameters, never shown to users (they read Message).
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.String())
	b.WriteString(": ")
	b.WriteString(e.Msg.ID)
	for _, a := range e.Msg.Args {
		switch {
		case a.Num != nil:
			b.WriteString(" " + a.Name + "=" + strconv.FormatInt(*a.Num, 10))
		case a.Msg != nil:
			b.WriteString(" " + a.Name + "=" + a.Msg.ID)
		case a.Text != "":
			b.WriteString(" " + a.Name + "=" + a.Text)
		}
	}
	if e.Field != "" {
		b.WriteString(" (field " + e.Field + ")")
	}
	return b.String()
}

// AsError is the refusal err is or wraps, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Join is the messages as one list ("a, b, c" in the reader's language:
// list.join, list.none when there are none).
func Join(items []Message) Message {
	switch len(items) {
	case 0:
		return New("list.none")
	case 1:
		return items[0]
	}
	return New("list.join", Nested("First", items[0]), Nested("Rest", Join(items[1:])))
}

// Stored is a stored text as a parameter: the message it encodes when it
// is one (read in the reader's language), else the text itself (a value
// written before it was a message).
func Stored(name, text string) Arg {
	if m, ok := Decode(text); ok {
		return Nested(name, m)
	}
	return Str(name, text)
}

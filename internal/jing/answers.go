package jing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Every successful answer is checked for the fields the console relies on
// before anything reads it: a field that is missing, null, of another type
// or (an id) empty makes the call an unrecognised answer naming the
// endpoint and the field, never an empty list or a zero. The shapes are
// here, in one table, so a check of the platform (jingdesk check) applies
// exactly what the features apply: CheckAnswer.

// Shape is what the console reads of an endpoint's data. Paths name fields
// from the data's top: "group_id", "items[].group_id" (every element of
// items), "items[]" alone an array (even an empty one).
type Shape struct {
	// IDs must be present and neither null, "" nor 0.
	IDs []string
	// Need must be present and not null.
	Need []string
	// Present must be present; null is a meaning (e.g. "unknown").
	Present []string
	// Check, when set, is a rule the paths cannot say (users.create).
	Check func(data any) error
}

// listOf is a list answer's shape: the items array with ids and needed fields.
func listOf(ids []string, need ...string) Shape {
	return Shape{IDs: prefixed("items[].", ids), Need: append([]string{"items[]"}, prefixed("items[].", need)...)}
}

func prefixed(prefix string, paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = prefix + p
	}
	return out
}

func ids(paths ...string) []string { return paths }

// leadFields are what the copy of the leads is built from.
var leadNeed = []string{"business_type", "lead_status", "updated_timestamp"}

// answerShapes is every endpoint whose answer the console reads. Writes
// that answer nothing the console uses (updates, deletes) have none: their
// code is their answer.
var answerShapes = map[string]Shape{
	"oauth.token":   {IDs: ids("access_token", "expires_in")},
	"oauth.refresh": {IDs: ids("access_token", "expires_in")},

	"users.create":         {Check: checkPersonsResult(true)},
	"users.update_batch":   {Check: checkPersonsResult(false)},
	"users.query":          {IDs: ids("omni_user_uuid")},
	"users.identity_batch": {IDs: ids("items[].identity_value"), Need: []string{"items[]"}, Present: []string{"items[].omni_user_uuid"}},

	"crowds.list":   listOf(ids("group_id"), "name", "user_count"),
	"crowds.detail": {IDs: ids("group_id"), Need: []string{"name", "user_count"}},
	"crowds.users":  listOf(ids("omni_user_uuid")),
	"crowds.create": {IDs: ids("group_id")},
	"crowds.import": {Need: []string{"success_number", "error_number"}},

	"leads.create":      {IDs: ids("jing_uuid")},
	"leads.query":       {IDs: ids("jing_uuid"), Need: leadNeed},
	"leads.list":        listOf(ids("jing_uuid"), leadNeed...),
	"leads.status_list": listOf(ids("jing_uuid"), "name"),
	"leads.detail_link": {IDs: ids("url")},

	"objects.business_types": listOf(ids("jing_uuid"), "name"),
	"objects.option_set":     listOf(ids("jing_uuid"), "name"),
	"objects.source_options": listOf(ids("jing_uuid"), "name"),
	"objects.custom_options": listOf(ids("jing_uuid"), "name"),
	"objects.fields":         listOf(ids("code"), "name", "type"),

	"members.list": listOf(ids("id"), "name", "status"),

	"sms.list":        listOf(ids("sms_id"), "name", "content"),
	"sms.send_detail": {Need: []string{"status", "total", "sent", "delivered", "failed", "items[]", "items[].mobile", "items[].status"}},
	"sms.task_create": {IDs: ids("task_id")},
	"sms.send":        {Need: []string{"status"}},

	"edm.mailboxes": listOf(ids("mailbox_id"), "address", "verified"),
	"edm.create":    {IDs: ids("edm_id")},
	"edm.detail":    {IDs: ids("edm_id"), Need: []string{"status"}},
	"edm.list":      listOf(ids("edm_id"), "name", "status"),
	"edm.records":   listOf(nil, "email", "status"),

	"scores.user_identity":     listOf(ids("id"), "score", "grade"),
	"scores.lead_identity":     listOf(ids("id"), "score", "grade"),
	"scores.user_active":       listOf(ids("id"), "score", "level"),
	"scores.lead_active":       listOf(ids("id"), "score", "level"),
	"scores.user_intention":    listOf(ids("id"), "model", "score", "level"),
	"scores.lead_intention":    listOf(ids("id"), "model", "score", "level"),
	"scores.user_active_clear": {Need: []string{"cleared"}},

	"privacy.status": listOf(ids("jing_uuid"), "title", "policy_infos[]", "policy_infos[].version", "policy_infos[].required"),
}

// AnswerShape is what the console reads of endpoint key's answer (ok is
// false for an endpoint whose data it does not read).
func AnswerShape(key string) (Shape, bool) {
	s, ok := answerShapes[key]
	return s, ok
}

// CheckAnswer checks the data block of a successful answer of endpoint key
// against its shape: nil, or an unrecognised-answer *Error naming the
// field. The client applies it to every answer; a check of the platform
// applies it to what it receives.
func CheckAnswer(key string, data []byte) error {
	shape, ok := answerShapes[key]
	if !ok {
		return nil
	}
	if err := shape.check(key, data); err != nil {
		var fe *fieldError
		if errors.As(err, &fe) {
			return &Error{Endpoint: key, Kind: KindUnrecognised, Problem: fe.problem, Field: fe.field, HTTPStatus: 200,
				Excerpt: Excerpt(data)}
		}
		return &Error{Endpoint: key, Kind: KindUnrecognised, Problem: ProblemWrongType, Field: "data", HTTPStatus: 200,
			Excerpt: Excerpt(data), Err: err}
	}
	return nil
}

// fieldError is a field of an answer that is not what the console reads.
type fieldError struct {
	field   string
	problem Problem
}

func (e *fieldError) Error() string { return fmt.Sprintf("%s %s", e.field, e.problem) }

func (s Shape) check(key string, data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || string(data) == "null" {
		return &fieldError{"data", ProblemMissing}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return &fieldError{"data", ProblemWrongType}
	}
	if _, isObject := v.(map[string]any); !isObject {
		return &fieldError{"data", ProblemWrongType}
	}
	for _, r := range s.rules(key) {
		if err := walk(v, r.path, r.want); err != nil {
			return err
		}
	}
	if s.Check != nil {
		return s.Check(v)
	}
	return nil
}

// presence is how much of a field a rule asks for.
type presence int

const (
	present  presence = iota // the key exists
	notNull                  // and is not null
	nonEmpty                 // and is not "" nor 0
)

// pathStep is one step of a path: a member name, and whether it is an
// array whose every element the rest of the path applies to.
type pathStep struct {
	name string
	each bool
}

// rule is one path of a shape, split, with what it asks of the field.
type rule struct {
	path []pathStep
	want presence
}

// rules are the paths of endpoint key's shape, split once.
func (s Shape) rules(key string) []rule {
	if r, ok := compiledRules.Load(key); ok {
		return r.([]rule)
	}
	var out []rule
	for _, group := range []struct {
		paths []string
		want  presence
	}{{s.Need, notNull}, {s.IDs, nonEmpty}, {s.Present, present}} {
		for _, p := range group.paths {
			out = append(out, rule{splitPath(p), group.want})
		}
	}
	compiledRules.Store(key, out)
	return out
}

var compiledRules sync.Map // endpoint key → []rule

func splitPath(p string) []pathStep {
	var out []pathStep
	for _, part := range strings.Split(p, ".") {
		name, each := strings.CutSuffix(part, "[]")
		out = append(out, pathStep{name, each})
	}
	return out
}

// walk checks path from v. The field an error names is built on the way
// back up, so a successful check makes no strings.
func walk(v any, path []pathStep, want presence) *fieldError {
	obj, ok := v.(map[string]any)
	if !ok {
		return &fieldError{"", ProblemWrongType}
	}
	step := path[0]
	val, found := obj[step.name]
	last := len(path) == 1 && !step.each
	switch {
	case !found:
		return &fieldError{step.name, ProblemMissing}
	case last:
		return within(step.name, checkValue(val, want))
	case val == nil:
		return &fieldError{step.name, ProblemMissing}
	case !step.each:
		return within(step.name, walk(val, path[1:], want))
	}
	arr, isArray := val.([]any)
	if !isArray {
		return &fieldError{step.name, ProblemWrongType}
	}
	if len(path) == 1 {
		return nil
	}
	for i, el := range arr {
		if err := walk(el, path[1:], want); err != nil {
			return within(step.name+"["+strconv.Itoa(i)+"]", err)
		}
	}
	return nil
}

// within puts err's field under name ("items[3]" + "group_id").
func within(name string, err *fieldError) *fieldError {
	if err != nil {
		err.field = joinField(name, err.field)
	}
	return err
}

func joinField(at, name string) string {
	switch {
	case at == "":
		return name
	case name == "":
		return at
	}
	return at + "." + name
}

func checkValue(v any, want presence) *fieldError {
	if want == present {
		return nil
	}
	if v == nil {
		return &fieldError{"", ProblemMissing}
	}
	if want == nonEmpty {
		switch x := v.(type) {
		case string:
			if strings.TrimSpace(x) == "" {
				return &fieldError{"", ProblemEmpty}
			}
		case json.Number:
			if f, err := x.Float64(); err == nil && f == 0 {
				return &fieldError{"", ProblemEmpty}
			}
		case map[string]any, []any, bool:
			return &fieldError{"", ProblemWrongType}
		}
	}
	return nil
}

// checkPersonsResult is users.create's and users.update_batch's answer: a
// success array, a failure array or both. A created person is matched to
// its row by identities, so on creation each element must name them (a
// uuid is not required: the public example of the answer has none).
func checkPersonsResult(byIdentities bool) func(any) error {
	return func(data any) error {
		obj := data.(map[string]any)
		_, hasSuccess := obj["success"]
		_, hasFailure := obj["failure"]
		if !hasSuccess && !hasFailure {
			return &fieldError{"success", ProblemMissing}
		}
		for _, list := range []string{"success", "failure"} {
			if v, found := obj[list]; !found || v == nil {
				continue
			}
			path := list + "[]"
			if byIdentities {
				path += ".identities[].value"
			}
			if err := walk(obj, splitPath(path), nonEmpty); err != nil {
				return err
			}
		}
		return nil
	}
}

// decodeAnswer checks data against key's shape, then decodes it into out.
func decodeAnswer(ep Endpoint, env envelope, out any) *Error {
	if err := CheckAnswer(ep.Key, env.Data); err != nil {
		e := err.(*Error)
		e.RequestID, e.Write = env.RequestID, ep.Write
		return e
	}
	if out == nil || len(env.Data) == 0 || string(env.Data) == "null" {
		return nil
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		e := &Error{Endpoint: ep.Key, Kind: KindUnrecognised, Problem: ProblemWrongType, HTTPStatus: 200,
			Excerpt: Excerpt(env.Data), RequestID: env.RequestID, Write: ep.Write, Err: err}
		var te *json.UnmarshalTypeError
		var fe *fieldError
		switch {
		case errors.As(err, &fe):
			e.Field, e.Problem = fe.field, fe.problem
		case errors.As(err, &te):
			e.Field = te.Field
		}
		return e
	}
	return nil
}

// ExcerptLimit bounds an excerpt, in characters.
const ExcerptLimit = 160

var (
	credentialValue = regexp.MustCompile(`(?i)("[a-z_]*(token|secret|password)[a-z_]*"\s*:\s*)"[^"]*"`)
	htmlTag         = regexp.MustCompile(`(?s)<(script|style)[^>]*>.*?</(script|style)>|<[^>]*>`)
	spaces          = regexp.MustCompile(`\s+`)
	mobileNumber    = regexp.MustCompile(`\b1[3-9]\d{9}\b`)
	emailAddress    = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
)

// Excerpt is the start of an answer, safe to show and keep: credentials
// are removed, mobiles and email addresses masked, an HTML page reduced to
// its text, spaces collapsed, at most ExcerptLimit characters.
func Excerpt(body []byte) string {
	s := string(bytes.ToValidUTF8(body[:min(len(body), 64<<10)], []byte("�")))
	s = credentialValue.ReplaceAllString(s, `$1"…"`)
	if t := strings.TrimSpace(s); strings.HasPrefix(t, "<") {
		s = htmlTag.ReplaceAllString(s, " ")
	}
	s = mobileNumber.ReplaceAllStringFunc(s, func(m string) string { return m[:3] + "****" + m[7:] })
	s = emailAddress.ReplaceAllString(s, "***@***")
	s = strings.TrimSpace(spaces.ReplaceAllString(s, " "))
	if utf8.RuneCountInString(s) > ExcerptLimit {
		r := []rune(s)
		s = string(r[:ExcerptLimit]) + "…"
	}
	return s
}

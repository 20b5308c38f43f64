package jing

import (
	"bytes"
	"encoding/json"
	"errors"
	"hash/fnv"
	"net/http"
	"strconv"
)

// envelope is the platform's response wrapper. It is not uniform across
// endpoints: code may be a number or a numeric string, and the text may be
// in msg or message. Both are read; anything else is not an envelope.
type envelope struct {
	RequestID string          `json:"request_id"`
	Code      flexCode        `json:"code"`
	Msg       string          `json:"msg"`
	Message   string          `json:"message"`
	Data      json.RawMessage `json:"data"`
	Timestamp int64           `json:"timestamp"`
}

// text is whichever of msg and message the endpoint used.
func (e envelope) text() string {
	if e.Msg != "" {
		return e.Msg
	}
	return e.Message
}

// flexCode is the envelope's code: 0 and "0" alike, "20001" as 20001. A
// code that is not an integer, or a string that is not one written plainly
// ("00", "SUCCESS", ""), is not a code the client recognises.
type flexCode int

// errCodeNotInteger marks a code that is present but not an integer.
var errCodeNotInteger = errors.New("code is not an integer")

func (c *flexCode) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		n, err := strconv.Atoi(s)
		if err != nil || strconv.Itoa(n) != s {
			return errCodeNotInteger
		}
		*c = flexCode(n)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return errCodeNotInteger
	}
	i, err := n.Int64()
	if err != nil {
		return errCodeNotInteger
	}
	*c = flexCode(i)
	return nil
}

// answer is one HTTP answer as the client read it.
type answer struct {
	status int
	body   []byte
}

// HTTP statuses a gateway answers without a platform envelope, and what
// they mean to the client.
func notFoundStatus(status int) bool {
	return status == http.StatusNotFound || status == http.StatusMethodNotAllowed || status == http.StatusGone
}

func gatewayTrouble(status int) bool {
	return status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout
}

// readEnvelope reads an answer as the platform's envelope. An answer that
// is not one (no JSON object, no code, an unknown code, an HTTP error status
// without a code) is an *Error: a path not found for 404, 405 and 410;
// transient for a gateway's 502, 503 and 504; rate limited for 429; and
// otherwise unrecognised. A documented error code is returned in the
// envelope whatever the HTTP status: the platform's own answer wins.
func readEnvelope(ep Endpoint, a answer) (envelope, *Error) {
	unrecognised := func(p Problem) (envelope, *Error) {
		e := &Error{Endpoint: ep.Key, Kind: KindUnrecognised, Problem: p, HTTPStatus: a.status,
			Excerpt: Excerpt(a.body), Write: ep.Write}
		switch {
		case notFoundStatus(a.status):
			e.Kind, e.Problem = KindInvalidPath, ""
		case a.status == http.StatusTooManyRequests:
			e.Kind, e.Problem = KindRateLimited, ""
		case gatewayTrouble(a.status):
			e.Kind, e.Problem = KindTransient, ""
		case a.status >= 400 && p != ProblemNotJSON:
			e.Problem = ProblemHTTPStatus
		}
		return envelope{}, e
	}
	body := bytes.TrimSpace(a.body)
	if len(body) == 0 || body[0] != '{' {
		return unrecognised(ProblemNotJSON)
	}
	var wire struct {
		RequestID string          `json:"request_id"`
		Code      json.RawMessage `json:"code"`
		Msg       string          `json:"msg"`
		Message   string          `json:"message"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		if !json.Valid(body) {
			return unrecognised(ProblemNotJSON)
		}
		// JSON, but a member has a type the envelope does not take (a
		// numeric msg, say): not a shape we know.
		return unrecognised(ProblemNoCode)
	}
	if len(wire.Code) == 0 || string(wire.Code) == "null" {
		return unrecognised(ProblemNoCode)
	}
	env := envelope{RequestID: wire.RequestID, Msg: wire.Msg, Message: wire.Message, Data: wire.Data}
	if err := env.Code.UnmarshalJSON(wire.Code); err != nil {
		return unrecognised(ProblemUnknownCode)
	}
	code := int(env.Code)
	if code == CodeOK && a.status >= 400 {
		return unrecognised(ProblemHTTPStatus)
	}
	if code != CodeOK && !documentedCodes[code] {
		e := &Error{Endpoint: ep.Key, Kind: KindUnrecognised, Problem: ProblemUnknownCode, Code: code, Msg: env.text(),
			RequestID: env.RequestID, HTTPStatus: a.status, Excerpt: Excerpt(a.body), Write: ep.Write}
		return env, e
	}
	return env, nil
}

// Meta is the paging block of list responses. The platform spells the page
// count "pageCont"; "pageCount" is accepted too. Whether a list answer has
// one is not documented: Known says this one gave a page count (or a total
// and a page size to work it out from), without which paging goes by the
// pages' lengths (Paging).
type Meta struct {
	TotalCount  int `json:"totalCount"`
	PageCount   int `json:"pageCount"`
	CurrentPage int `json:"currentPage"`
	PerPage     int `json:"perPage"`
	known       bool
}

// Known reports a paging block that says how many pages there are.
func (m Meta) Known() bool { return m.known }

func (m *Meta) UnmarshalJSON(b []byte) error {
	var raw struct {
		TotalCount  *int `json:"totalCount"`
		PageCont    *int `json:"pageCont"`
		PageCount   *int `json:"pageCount"`
		CurrentPage int  `json:"currentPage"`
		PerPage     int  `json:"perPage"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*m = Meta{CurrentPage: raw.CurrentPage, PerPage: raw.PerPage}
	if raw.TotalCount != nil {
		m.TotalCount = *raw.TotalCount
	}
	switch {
	case raw.PageCont != nil:
		m.PageCount, m.known = *raw.PageCont, true
	case raw.PageCount != nil:
		m.PageCount, m.known = *raw.PageCount, true
	case raw.TotalCount != nil && raw.PerPage > 0:
		m.PageCount, m.known = (m.TotalCount+raw.PerPage-1)/raw.PerPage, true
	}
	return nil
}

// MarshalJSON writes the documented spelling, so the sandbox answers as the platform does.
func (m Meta) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		TotalCount  int `json:"totalCount"`
		PageCont    int `json:"pageCont"`
		CurrentPage int `json:"currentPage"`
		PerPage     int `json:"perPage"`
	}{m.TotalCount, m.PageCount, m.CurrentPage, m.PerPage})
}

// Page is one page of a list call. Decoding one requires its items array:
// a list answer without it is an error naming "items", never an empty page.
type Page[T any] struct {
	Items []T  `json:"items"`
	Meta  Meta `json:"_meta"`
	// digest identifies the items' bytes, so a platform that ignores the
	// page asked for (the same page again) is caught.
	digest uint64
}

func (p *Page[T]) UnmarshalJSON(b []byte) error {
	var raw struct {
		Items json.RawMessage `json:"items"`
		Meta  json.RawMessage `json:"_meta"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if len(raw.Items) == 0 || string(raw.Items) == "null" {
		return &fieldError{"items", ProblemMissing}
	}
	*p = Page[T]{}
	if err := json.Unmarshal(raw.Items, &p.Items); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			te.Field = joinField("items", te.Field)
		}
		return err
	}
	if len(raw.Meta) > 0 && string(raw.Meta) != "null" {
		if err := json.Unmarshal(raw.Meta, &p.Meta); err != nil {
			return err
		}
	}
	h := fnv.New64a()
	h.Write(raw.Items)
	p.digest = h.Sum64()
	return nil
}

// Info is what paging needs to know of the page.
func (p Page[T]) Info() PageInfo {
	return PageInfo{Items: len(p.Items), Meta: p.Meta, digest: p.digest}
}

// PageRequest is the paging part of a list call's body.
type PageRequest struct {
	Page    int `json:"page"`
	PerPage int `json:"perPage"`
}

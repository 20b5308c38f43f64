package jing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// envelope is the platform's response wrapper. It is not uniform across
// endpoints: code may be a number or a numeric string, and the text may be
// in msg or message. Decode tolerantly.
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

// flexCode accepts 0, "0", and "20001" alike.
type flexCode int

func (c *flexCode) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s == "" {
			*c = 0
			return nil
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("code %q is not a number", s)
		}
		*c = flexCode(n)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	i, err := n.Int64()
	if err != nil {
		return fmt.Errorf("code %s is not an integer", n)
	}
	*c = flexCode(i)
	return nil
}

func decodeEnvelope(body []byte) (envelope, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return envelope{}, err
	}
	return env, nil
}

// Meta is the paging block of list responses. The platform spells the page
// count "pageCont"; "pageCount" is accepted too.
type Meta struct {
	TotalCount  int `json:"totalCount"`
	PageCount   int `json:"pageCount"`
	CurrentPage int `json:"currentPage"`
	PerPage     int `json:"perPage"`
}

func (m *Meta) UnmarshalJSON(b []byte) error {
	var raw struct {
		TotalCount  int  `json:"totalCount"`
		PageCont    *int `json:"pageCont"`
		PageCount   *int `json:"pageCount"`
		CurrentPage int  `json:"currentPage"`
		PerPage     int  `json:"perPage"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	m.TotalCount, m.CurrentPage, m.PerPage = raw.TotalCount, raw.CurrentPage, raw.PerPage
	switch {
	case raw.PageCont != nil:
		m.PageCount = *raw.PageCont
	case raw.PageCount != nil:
		m.PageCount = *raw.PageCount
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

// Page is one page of a list call.
type Page[T any] struct {
	Items []T  `json:"items"`
	Meta  Meta `json:"_meta"`
}

// PageRequest is the paging part of a list call's body.
type PageRequest struct {
	Page    int `json:"page"`
	PerPage int `json:"perPage"`
}

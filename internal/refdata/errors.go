package refdata

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// errorDetail is a platform failure as stored beside a set, so the
// Settings page can still show it translated after a restart.
type errorDetail struct {
	Endpoint  string `json:"endpoint"`
	Kind      string `json:"kind"`
	Code      int    `json:"code,omitempty"`
	Msg       string `json:"msg,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	Until     int64  `json:"until,omitempty"`
	Case      string `json:"case,omitempty"`
	Status    int    `json:"status,omitempty"`
	Problem   string `json:"problem,omitempty"`
	Field     string `json:"field,omitempty"`
	Excerpt   string `json:"excerpt,omitempty"`
}

// encodeError stores what a *jing.Error carries ("" for other errors,
// whose English text is all there is).
func encodeError(err error) string {
	e, ok := jing.AsError(err)
	if !ok {
		return ""
	}
	d := errorDetail{Endpoint: e.Endpoint, Kind: e.Kind.String(), Code: e.Code, Msg: e.Msg, RequestID: e.RequestID,
		Case: string(e.Case), Status: e.HTTPStatus, Problem: string(e.Problem), Field: e.Field, Excerpt: e.Excerpt}
	if !e.Until.IsZero() {
		d.Until = e.Until.Unix()
	}
	b, _ := json.Marshal(d)
	return string(b)
}

// decodeError turns a stored failure back into an error: the *jing.Error
// it was when the detail names a kind this build knows, else the text.
func decodeError(text, detail string) error {
	if text == "" {
		return nil
	}
	var d errorDetail
	if detail == "" || json.Unmarshal([]byte(detail), &d) != nil {
		return errors.New(text)
	}
	kind, ok := kindNamed(d.Kind)
	if !ok {
		return errors.New(text)
	}
	e := &jing.Error{Endpoint: d.Endpoint, Kind: kind, Code: d.Code, Msg: d.Msg, RequestID: d.RequestID,
		Case: jing.Case(d.Case), HTTPStatus: d.Status, Problem: jing.Problem(d.Problem), Field: d.Field, Excerpt: d.Excerpt}
	if d.Until != 0 {
		e.Until = time.Unix(d.Until, 0)
	}
	return e
}

// kindNamed finds the Kind whose String is name. Kinds are numbered from
// 1 without gaps, and an unnamed one ends the list.
func kindNamed(name string) (jing.Kind, bool) {
	for k := jing.Kind(1); k.String() != ""; k++ {
		if k.String() == name {
			return k, true
		}
	}
	return 0, false
}

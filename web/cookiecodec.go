package web

import (
	"encoding/json"
	"fmt"

	"github.com/jingdesk/jingdesk/templates/ui"
)

// sessionSerializer encodes the session's few known values as one JSON
// object. gorilla's default (gob) builds a decoder on every request, which
// cost a fifth of a signed-in page view; a typed struct is faster and
// refuses anything we did not put there.
type sessionSerializer struct{}

// flashesKey is where gorilla/sessions keeps flash messages.
const flashesKey = "_flash"

type sessionWire struct {
	// Session is the sign-in's token (db.Session keeps its hash); the
	// timeouts and the account are read from that row, not the cookie.
	Session string     `json:"i,omitempty"`
	CSRF    string     `json:"c,omitempty"`
	Lang    string     `json:"l,omitempty"`
	Flashes []ui.Flash `json:"f,omitempty"`
	// Other holds any further string values handlers keep (one-time notices).
	Other map[string]string `json:"x,omitempty"`
}

// typedKeys are stored in their own fields, not in Other.
var typedKeys = map[string]bool{keySession: true, keyCSRF: true, keyLang: true, flashesKey: true}

func (sessionSerializer) Serialize(src any) ([]byte, error) {
	values, ok := src.(map[any]any)
	if !ok {
		return nil, fmt.Errorf("session: cannot serialize %T", src)
	}
	var w sessionWire
	w.Session, _ = values[keySession].(string)
	w.CSRF, _ = values[keyCSRF].(string)
	w.Lang, _ = values[keyLang].(string)
	for k, v := range values {
		key, isString := k.(string)
		str, isStringValue := v.(string)
		if isString && isStringValue && !typedKeys[key] {
			if w.Other == nil {
				w.Other = map[string]string{}
			}
			w.Other[key] = str
		}
	}
	if fs, ok := values[flashesKey].([]any); ok {
		for _, f := range fs {
			if fl, ok := f.(ui.Flash); ok {
				w.Flashes = append(w.Flashes, fl)
			}
		}
	}
	return json.Marshal(w)
}

func (sessionSerializer) Deserialize(src []byte, dst any) error {
	values, ok := dst.(*map[any]any)
	if !ok {
		return fmt.Errorf("session: cannot deserialize into %T", dst)
	}
	var w sessionWire
	if err := json.Unmarshal(src, &w); err != nil {
		return err
	}
	m := *values
	setIf := func(key string, v any, present bool) {
		if present {
			m[key] = v
		}
	}
	setIf(keySession, w.Session, w.Session != "")
	setIf(keyCSRF, w.CSRF, w.CSRF != "")
	setIf(keyLang, w.Lang, w.Lang != "")
	for k, v := range w.Other {
		if !typedKeys[k] {
			m[k] = v
		}
	}
	if len(w.Flashes) > 0 {
		fs := make([]any, len(w.Flashes))
		for i, f := range w.Flashes {
			fs[i] = f
		}
		m[flashesKey] = fs
	}
	return nil
}

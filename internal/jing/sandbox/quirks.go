package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// Quirk is one way a real platform might answer that its documentation
// does not describe. The sandbox answers as documented by default; quirks
// make it answer like an undocumented platform on purpose, so the
// console's handling of answers it does not understand can be tried
// (`jingdesk sandbox --quirk …`) and tested (Config.Quirks, SetQuirks).
type Quirk string

const (
	// QuirkNoCode: envelopes without "code" (success and error alike).
	QuirkNoCode Quirk = "no-code"
	// QuirkEmptyAnswer: a success is answered "200 {}".
	QuirkEmptyAnswer Quirk = "empty-answer"
	// QuirkHTML404: a path the platform does not serve answers HTTP 404
	// with a gateway's HTML page (instead of the documented 40002 envelope).
	QuirkHTML404 Quirk = "html-404"
	// QuirkJSON404: the same with a Spring-style JSON body without code,
	// {"timestamp":…,"status":404,"error":"Not Found","path":…}.
	QuirkJSON404 Quirk = "json-404"
	// QuirkNoMeta: list answers without "_meta".
	QuirkNoMeta Quirk = "no-meta"
	// QuirkItemsRenamed: list answers name their array "list", not "items".
	QuirkItemsRenamed Quirk = "items-renamed"
	// QuirkNoUserUUID: users.create's successes carry no omni_user_uuid,
	// as the public example of that answer (identities and leads_info only).
	QuirkNoUserUUID Quirk = "no-user-uuid"
	// QuirkStringCode: a success is answered with the string code "200"
	// and "message" (neither 0 nor "0").
	QuirkStringCode Quirk = "string-code"
	// QuirkWebhookObjects: webhook bodies as the public examples have them:
	// timeline_data and mapping_data as JSON objects, nulls for empty
	// fields, object_id a string, and an extra top-level "openplatform".
	QuirkWebhookObjects Quirk = "webhook-objects"
)

// AllQuirks lists every quirk, in the order the help text shows them.
var AllQuirks = []Quirk{QuirkNoCode, QuirkEmptyAnswer, QuirkHTML404, QuirkJSON404, QuirkNoMeta, QuirkItemsRenamed,
	QuirkNoUserUUID, QuirkStringCode, QuirkWebhookObjects}

// Quirks are the quirks in force, each for the catalog keys it lists (an
// empty list: every endpoint). For the 404 quirks a list names endpoints
// to answer as if their path did not exist; without one, only paths
// outside the catalog (and disabled entries) get the 404. They compose:
// no-meta and items-renamed together answer a list with neither.
type Quirks map[Quirk][]string

// On reports whether quirk q applies to endpoint key.
func (qs Quirks) On(q Quirk, key string) bool {
	keys, ok := qs[q]
	return ok && (len(keys) == 0 || slices.Contains(keys, key))
}

// Set adds one quirk written as "name" or "name=key,key" (flag.Value, so
// --quirk can be repeated).
func (qs Quirks) Set(s string) error {
	name, list, _ := strings.Cut(s, "=")
	q := Quirk(strings.TrimSpace(name))
	if !slices.Contains(AllQuirks, q) {
		return fmt.Errorf("unknown quirk %q (known: %s)", name, quirkNames())
	}
	var keys []string
	catalog := jing.DefaultCatalog()
	for _, k := range strings.Split(list, ",") {
		if k = strings.TrimSpace(k); k == "" {
			continue
		}
		if _, ok := catalog.Get(k); !ok {
			return fmt.Errorf("quirk %s: unknown endpoint %q", q, k)
		}
		keys = append(keys, k)
	}
	qs[q] = append(qs[q], keys...)
	return nil
}

// String writes the quirks as the flag reads them.
func (qs Quirks) String() string {
	var parts []string
	for q, keys := range qs {
		s := string(q)
		if len(keys) > 0 {
			s += "=" + strings.Join(keys, ",")
		}
		parts = append(parts, s)
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func quirkNames() string {
	names := make([]string, len(AllQuirks))
	for i, q := range AllQuirks {
		names[i] = string(q)
	}
	return strings.Join(names, ", ")
}

// clone copies qs, so a caller's later changes do not reach the server.
func (qs Quirks) clone() Quirks {
	out := make(Quirks, len(qs))
	for q, keys := range qs {
		out[q] = slices.Clone(keys)
	}
	return out
}

// SetQuirks replaces the quirks in force.
func (s *Server) SetQuirks(qs Quirks) {
	s.mu.Lock()
	s.quirks = qs.clone()
	s.mu.Unlock()
}

func (s *Server) currentQuirks() Quirks {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.quirks
}

// notServed answers a path the platform does not serve the way the 404
// quirks say: key is the endpoint ("" for a path outside the catalog or a
// disabled entry). It reports false when no quirk applies (the documented
// 40002 envelope follows).
func (s *Server) notServed(w http.ResponseWriter, r *http.Request, key string) bool {
	qs := s.currentQuirks()
	switch {
	case qs.answer404(QuirkHTML404, key):
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
		return true
	case qs.answer404(QuirkJSON404, key):
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]any{"timestamp": "2026-11-21T08:00:00.000+00:00", "status": 404,
			"error": "Not Found", "path": r.URL.Path})
		return true
	}
	return false
}

// answer404 reports whether a 404 quirk answers key: a path outside the
// catalog whenever the quirk is on, an endpoint only when it is named.
func (qs Quirks) answer404(q Quirk, key string) bool {
	if key == "" {
		_, on := qs[q]
		return on
	}
	return slices.Contains(qs[q], key)
}

// shapeData reshapes a success's data as the quirks say (lists without
// _meta or with their array renamed, users.create without uuids).
func shapeData(qs Quirks, key string, data any) (any, error) {
	noMeta, renamed, noUUID := qs.On(QuirkNoMeta, key), qs.On(QuirkItemsRenamed, key),
		key == "users.create" && qs.On(QuirkNoUserUUID, key)
	if !noMeta && !renamed && !noUUID {
		return data, nil
	}
	b, err := json.Marshal(data)
	if err != nil || !bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		return data, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, err
	}
	if _, isList := obj["items"]; isList {
		if noMeta {
			delete(obj, "_meta")
		}
		if renamed {
			obj["list"] = obj["items"]
			delete(obj, "items")
		}
	}
	if noUUID {
		if err := dropUUIDs(obj); err != nil {
			return nil, err
		}
	}
	return obj, nil
}

// dropUUIDs removes omni_user_uuid from users.create's success items.
func dropUUIDs(obj map[string]json.RawMessage) error {
	var success []map[string]json.RawMessage
	if err := json.Unmarshal(obj["success"], &success); err != nil {
		return err
	}
	for _, it := range success {
		delete(it, "omni_user_uuid")
	}
	b, err := json.Marshal(success)
	obj["success"] = b
	return err
}

// envelopeFor is the body of an answer under the quirks.
func envelopeFor(qs Quirks, ep jing.Endpoint, code int, msg string, data any, requestID string, ts int64) any {
	ok := code == jing.CodeOK
	if ok && qs.On(QuirkEmptyAnswer, ep.Key) {
		return struct{}{}
	}
	env := map[string]any{"request_id": requestID, "data": data, "timestamp": ts}
	switch {
	case ok && qs.On(QuirkStringCode, ep.Key):
		env["code"], env["message"] = "200", "success"
	case ep.StringCode:
		env["code"], env["message"] = fmt.Sprint(code), msg
	default:
		env["code"], env["msg"] = code, msg
	}
	if qs.On(QuirkNoCode, ep.Key) {
		delete(env, "code")
	}
	return env
}

// webhookLikeExamples rewrites an encoded event the way the public examples
// are written (../shared/jing-api/examples/): nested JSON as objects, nulls
// for empty values, object_id a string, an extra top-level field.
func webhookLikeExamples(body []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var ev map[string]any
	if err := dec.Decode(&ev); err != nil {
		return body
	}
	extra, _ := ev["extra_data"].(map[string]any)
	if extra == nil {
		return body
	}
	for _, k := range []string{"mapping_data", "mapping_data_text", "timeline_data"} {
		if s, isString := extra[k].(string); isString {
			var v any
			if json.Unmarshal([]byte(s), &v) == nil {
				extra[k] = v
			}
		}
	}
	if _, ok := extra["timeline_data"]; !ok {
		extra["timeline_data"] = map[string]any{"login_platform": "jing", "login_source_name": nil,
			"login_source_type": "jingmodule", "login_environment": "pc"}
	}
	for _, k := range []string{"login_source_value", "notes", "omni_user_uuid", "business_unit", "baby_lead_action_uuid"} {
		if v, ok := extra[k]; !ok || v == "" {
			extra[k] = nil
		}
	}
	if n, isNumber := extra["object_id"].(json.Number); isNumber {
		extra["object_id"] = n.String()
	}
	ev["openplatform"] = "June"
	out, err := json.Marshal(ev)
	if err != nil {
		return body
	}
	return out
}

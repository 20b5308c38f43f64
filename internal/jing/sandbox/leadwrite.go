package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Lead writes: the field values a create or an update carries, checked
// against the business type's fields and rules, then applied to the lead
// as a list of changes (which leadevents.go turns into webhooks).

// leadWrite is a validated set of field values to write.
type leadWrite struct {
	fields map[string]string          // preset code → value ("" clears)
	custom map[string]json.RawMessage // custom code → JSON value (nil clears)
}

// parseLeadWrite validates every field of body (except skip) for business
// type bt: known, writable, and a valid value of its type.
func (s *Server) parseLeadWrite(bt *businessType, body map[string]json.RawMessage, skip ...string) (leadWrite, error) {
	w := leadWrite{fields: map[string]string{}, custom: map[string]json.RawMessage{}}
	meta := &s.tenant.Objects.Lead
	for _, code := range slices.Sorted(maps.Keys(body)) {
		if slices.Contains(skip, code) {
			continue
		}
		f := meta.field(bt.JingUUID, code)
		if err := checkWritable(f, code); err != nil {
			return w, err
		}
		// Values are strings, but member ids and numbers may come as numbers.
		v, ok := rawText(body[code])
		if !ok || (!isJSONString(body[code]) && f.Code != "owner" && f.Type != "number") {
			return w, invalid(code, "必须是字符串")
		}
		if err := s.checkLeadValue(bt, *f, v); err != nil {
			return w, err
		}
		if f.IsPreset == 1 {
			w.fields[code] = v
		} else {
			w.custom[code] = customRaw(body[code], v)
		}
	}
	return w, nil
}

func isJSONString(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && (raw[0] == '"' || string(raw) == "null")
}

// customRaw is the stored form of a custom value: nil clears it.
func customRaw(raw json.RawMessage, text string) json.RawMessage {
	if text == "" {
		return nil
	}
	var b bytes.Buffer
	json.Compact(&b, raw)
	return b.Bytes()
}

// checkWritable refuses unknown fields, custom fields of the types the
// platform cannot write (40004, as documented) and read-only fields.
func checkWritable(f *crmField, code string) error {
	switch {
	case f == nil:
		return invalid(code, "不是该业务类型的线索字段")
	case f.IsPreset == 0 && readOnlyCustomTypes[f.Type]:
		return business(fmt.Sprintf("自定义字段 %s（%s）的类型为 %s，不能创建或更新", f.Code, f.Name, f.Type))
	case f.Writable == 0:
		return invalid(code, "是只读字段")
	}
	return nil
}

var (
	leadMobileRE = regexp.MustCompile(`^(1[3-9]\d{9}|\+\d{6,15})$`)
	leadEmailRE  = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s.]+$`)
	leadURLRE    = regexp.MustCompile(`^(https?://)?[^\s/.]+(\.[^\s/.]+)+(/\S*)?$`)
)

// checkLeadValue validates a non-empty value v of field f.
func (s *Server) checkLeadValue(bt *businessType, f crmField, v string) error {
	if v == "" {
		return nil
	}
	ok, why := true, ""
	switch f.Type {
	case "text":
		ok, why = utf8.RuneCountInString(v) <= 255, "不能超过 255 个字符"
	case "textarea":
		ok, why = utf8.RuneCountInString(v) <= 5000, "不能超过 5000 个字符"
	case "mobile":
		ok, why = leadMobileRE.MatchString(v), "不是有效的手机号"
	case "email":
		ok, why = leadEmailRE.MatchString(v), "不是有效的邮箱"
	case "url":
		ok, why = leadURLRE.MatchString(v), "不是有效的网址"
	case "number":
		_, err := strconv.ParseFloat(v, 64)
		ok, why = err == nil, "必须是数字"
	case "date":
		ok, why = isDate(v), "必须是 YYYY-MM-DD 格式的日期"
	case "select", "multi_select":
		return s.checkChoice(bt, f, v)
	case "option_set":
		ok, why = s.tenant.Objects.Lead.OptionSets[f.Code].IsLeaf(v), "必须是选项集最内层选项的 jing_uuid"
	case "look_up":
		return s.checkLookUp(f.Code, v)
	}
	if !ok {
		return invalid(f.Code, why)
	}
	return nil
}

func isDate(v string) bool {
	_, err1 := time.Parse(time.DateOnly, v)
	_, err2 := time.Parse(time.DateTime, v)
	return err1 == nil || err2 == nil
}

// checkChoice validates a select value, or each of a multi_select's
// comma-joined values.
func (s *Server) checkChoice(bt *businessType, f crmField, v string) error {
	values := []string{v}
	if f.Type == "multi_select" {
		values = strings.Split(v, ",")
	}
	for _, x := range values {
		if f.Code == "lead_status" {
			if bt.stage(x) == nil {
				return invalid(f.Code, "不是该业务类型的线索状态")
			}
			continue
		}
		if _, ok := s.tenant.Objects.Lead.option(f.Code, x); !ok {
			return invalid(f.Code, "不是有效的选项: "+x)
		}
	}
	return nil
}

func (s *Server) checkLookUp(code, v string) error {
	switch {
	case code == "owner" && s.tenant.crmMember(v) == nil:
		return invalid(code, "不存在的成员")
	case code == "account_id" && s.tenant.Leads.account(v) == nil:
		return invalid(code, "不存在的客户")
	case code == "account_id" && s.tenant.Leads.account(v).Voided:
		return business("客户已作废，不能关联: " + v)
	}
	return nil
}

// checkLeadRules checks the lead that writing w to l would give: required
// fields, and the business rules (no duplicate contact in a business type,
// owners active, converted leads keep their status).
func (s *Server) checkLeadRules(bt *businessType, l *lead, w leadWrite, creating bool) error {
	next := maps.Clone(l.Fields)
	maps.Copy(next, w.fields)
	if next["name"] == "" {
		return requiredErr(creating, "name", "不能为空")
	}
	if next["mobile"] == "" && next["email"] == "" {
		return requiredErr(creating, "mobile或email", "手机号和邮箱不能同时为空")
	}
	for _, code := range []string{"mobile", "email"} {
		v := next[code]
		if v == "" || strings.EqualFold(v, l.Fields[code]) {
			continue
		}
		if other := s.tenant.Leads.latestWith(code, v, bt.JingUUID, l); other != nil {
			return business(fmt.Sprintf("该业务类型下已存在%s为 %s 的线索（%s）", map[string]string{"mobile": "手机号", "email": "邮箱"}[code], v, other.JingUUID))
		}
	}
	if owner := next["owner"]; owner != "" && owner != l.Fields["owner"] {
		if m := s.tenant.crmMember(owner); m != nil && m.Status != "active" {
			return business("负责人 " + m.Name + " 已停用，不能分配线索")
		}
	}
	if st := bt.stage(l.Fields["lead_status"]); !creating && st != nil && st.Outcome == outcomeWon && next["lead_status"] != st.JingUUID {
		return business("线索已转化，不能再变更线索状态")
	}
	return nil
}

// requiredErr is 40001 when creating (the field was not sent) and 40002
// when an update would empty it.
func requiredErr(creating bool, field, why string) error {
	if creating {
		return missing(field)
	}
	return invalid(field, why)
}

// leadChange is one changed field: raw values before and after (nil: empty).
type leadChange struct {
	code          string
	before, after any
}

// apply writes w to l and returns what changed, the derived life_status
// and lead_pool included.
func (l *lead) apply(w leadWrite, pool string, bt *businessType) []leadChange {
	var out []leadChange
	for _, code := range slices.Sorted(maps.Keys(w.fields)) {
		before, after := l.Fields[code], w.fields[code]
		if before == after {
			continue
		}
		out = append(out, leadChange{code, textOrNil(before), textOrNil(after)})
		setOrDelete(l.Fields, code, after)
	}
	if l.Custom == nil {
		l.Custom = map[string]json.RawMessage{}
	}
	for _, code := range slices.Sorted(maps.Keys(w.custom)) {
		before, after := l.Custom[code], w.custom[code]
		if bytes.Equal(before, after) {
			continue
		}
		out = append(out, leadChange{code, rawValue(before), rawValue(after)})
		if after == nil {
			delete(l.Custom, code)
		} else {
			l.Custom[code] = after
		}
	}
	return append(out, l.derive(w, pool, bt)...)
}

// derive updates the fields that follow from others: life_status from
// the status, lead_pool from the owner.
func (l *lead) derive(w leadWrite, pool string, bt *businessType) []leadChange {
	var out []leadChange
	if st := bt.stage(l.Fields["lead_status"]); st != nil && st.LifeStatus != l.LifeStatus {
		out = append(out, leadChange{"life_status", textOrNil(l.LifeStatus), st.LifeStatus})
		l.LifeStatus = st.LifeStatus
	}
	if _, ok := w.fields["owner"]; ok {
		next := ""
		if l.Fields["owner"] == "" {
			next = pool
		}
		if next != l.LeadPool {
			out = append(out, leadChange{"lead_pool", textOrNil(l.LeadPool), textOrNil(next)})
			l.LeadPool = next
		}
	}
	return out
}

func setOrDelete(m map[string]string, k, v string) {
	if v == "" {
		delete(m, k)
	} else {
		m[k] = v
	}
}

func textOrNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// rawValue decodes a stored custom value for mapping_data (numbers stay exact).
func rawValue(raw json.RawMessage) any {
	if raw == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return string(raw)
	}
	return v
}

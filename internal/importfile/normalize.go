package importfile

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Column roles of the mapping step.
const (
	ColIgnore  = ""
	ColMobile  = "mobile"
	ColEmail   = "email"
	ColUUID    = "omni_user_uuid"
	ColOpenID  = "wechat_openid"
	ColUnionID = "wechat_unionid"
	ColName    = "name"
	ColCompany = "company"
	ColCity    = "city"
	ColTitle   = "title"
)

// Roles are the roles a column can take, in the order the mapping step offers them.
var Roles = []string{ColMobile, ColEmail, ColUUID, ColOpenID, ColUnionID, ColName, ColCompany, ColCity, ColTitle}

// MatchRoles are the roles that can identify a person.
var MatchRoles = []string{ColMobile, ColEmail, ColUUID, ColOpenID, ColUnionID}

// IdentityRoles are the match roles a person can be created with: the
// identities users.create takes (an omni_user_uuid is the platform's own).
var IdentityRoles = []string{ColMobile, ColEmail, ColOpenID, ColUnionID}

// FieldRoles are the roles written as the person's fields (their field
// codes) when persons are created.
var FieldRoles = []string{ColName, ColCompany, ColCity, ColTitle}

// Reasons a value is invalid (stable codes; the UI translates them).
const (
	ReasonEmpty        = "empty"         // the identity cell is empty (row otherwise not empty)
	ReasonMobileFormat = "mobile_format" // not a mainland mobile after normalising
	ReasonEmailFormat  = "email_format"
	ReasonIDFormat     = "id_format" // uuid / openid / unionid with bad characters or length
	// ReasonMobileRounded: a mobile in scientific notation that no longer
	// carries all its digits (Excel showed 1.38001E+10 and the file kept
	// that): the number it stands for is not known.
	ReasonMobileRounded = "mobile_rounded"
)

// roleAliases lists the header texts marketers use for each role; they are
// compared after headerKey.
var roleAliases = map[string][]string{
	ColMobile:  {"手机", "手机号", "手机号码", "mobile", "phone", "电话", "联系电话", "mobile phone", "cellphone"},
	ColEmail:   {"邮箱", "email", "e-mail", "电子邮箱", "邮件"},
	ColUUID:    {"omni_user_uuid", "uuid", "用户id"},
	ColOpenID:  {"openid", "wechat_openid", "微信openid"},
	ColUnionID: {"unionid", "wechat_unionid"},
	ColName:    {"姓名", "名字", "name", "客户姓名"},
	ColCompany: {"公司", "公司名称", "单位", "企业", "企业名称", "company"},
	ColCity:    {"城市", "所在城市", "city"},
	ColTitle:   {"职位", "职务", "title", "job title"},
}

var aliasRole = func() map[string]string {
	m := map[string]string{}
	for role, aliases := range roleAliases {
		for _, a := range aliases {
			m[headerKey(a)] = role
		}
	}
	return m
}()

// headerKey folds full-width forms (NFKC), case, spaces, '_' and '-' so that
// "Mobile Phone", "mobile_phone" and "ＭＯＢＩＬＥ－ＰＨＯＮＥ" compare equal.
func headerKey(s string) string {
	s = strings.ToLower(norm.NFKC.String(s))
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '_' || r == '-' || r == '\uFEFF' {
			return -1
		}
		return r
	}, s)
}

// AutoMap proposes a role per header cell from known aliases. Each role is
// given at most once: the first matching column wins, later ones are ignored.
func AutoMap(header []string) []string {
	out := make([]string, len(header))
	used := map[string]bool{}
	for i, h := range header {
		role, ok := aliasRole[headerKey(h)]
		if ok && !used[role] {
			out[i] = role
			used[role] = true
		}
	}
	return out
}

// EmptyRecord reports whether every field is blank.
func EmptyRecord(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// Normalize returns the canonical value for a match role, or reason != "".
// Roles that do not identify anyone (FieldRoles, unknown) come back trimmed.
func Normalize(role, raw string) (value, reason string) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", ReasonEmpty
	}
	switch role {
	case ColMobile:
		return normalizeMobile(s)
	case ColEmail:
		return normalizeEmail(s)
	case ColUUID, ColOpenID, ColUnionID:
		return normalizeID(s)
	}
	return s, ""
}

func normalizeMobile(s string) (string, string) {
	s = strings.TrimSpace(norm.NFKC.String(s))
	if d, sci, exact := scientificInteger(s); sci && !exact {
		return "", ReasonMobileRounded
	} else if sci {
		s = d
	}
	s = strings.TrimSuffix(s, ".0") // Excel shows numbers as 13800138000.0
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || strings.ContainsRune("-.()", r) {
			return -1
		}
		return r
	}, s)
	switch {
	case strings.HasPrefix(s, "+86"):
		s = s[3:]
	case strings.HasPrefix(s, "0086"):
		s = s[4:]
	case strings.HasPrefix(s, "86") && len(s) == 13:
		s = s[2:]
	}
	if !isMobile(s) {
		return "", ReasonMobileFormat
	}
	return s, ""
}

// isMobile matches ^1[3-9]\d{9}$.
func isMobile(s string) bool {
	if len(s) != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9' {
		return false
	}
	return allDigits(s)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// scientificInteger reads Excel's scientific notation ("1.3800138000E+10")
// with digits rather than floats, so nothing is rounded here. sci reports
// whether s is in that notation; exact whether it still carries every
// digit of the integer it stands for (then digits is that integer). Excel
// writes a number too wide for its column as "1.38001E+10": the digits
// after the sixth are gone, and the number is not exact.
func scientificInteger(s string) (digits string, sci, exact bool) {
	i := strings.IndexAny(s, "eE")
	if i < 0 {
		return "", false, false
	}
	mant, exp := s[:i], strings.TrimPrefix(s[i+1:], "+")
	if !allDigits(exp) || len(exp) > 2 {
		return "", false, false
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	if !allDigits(intPart) || (frac != "" && !allDigits(frac)) {
		return "", false, false
	}
	e := int(exp[0] - '0')
	if len(exp) == 2 {
		e = e*10 + int(exp[1]-'0')
	}
	if len(frac) < e {
		return "", true, false // digits were dropped
	}
	if strings.Trim(frac[e:], "0") != "" {
		return "", true, true // not an integer: exact, but no mobile either
	}
	return intPart + frac[:e], true, true
}

func normalizeEmail(s string) (string, string) {
	s = strings.ToLower(strings.TrimSpace(norm.NFKC.String(s)))
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || strings.Contains(domain, "@") {
		return "", ReasonEmailFormat
	}
	for _, r := range local {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "", ReasonEmailFormat
		}
	}
	if !validDomain(domain) {
		return "", ReasonEmailFormat
	}
	return s, ""
}

// validDomain wants dot-separated labels of [a-z0-9-] and a TLD of at least
// two letters.
func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	if len(tld) < 2 {
		return false
	}
	for i := 0; i < len(tld); i++ {
		if tld[i] < 'a' || tld[i] > 'z' {
			return false
		}
	}
	return true
}

// normalizeID accepts 6–64 characters of [A-Za-z0-9_-]; case is significant
// in WeChat ids, so it is kept.
func normalizeID(s string) (string, string) {
	if len(s) < 6 || len(s) > 64 {
		return "", ReasonIDFormat
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return "", ReasonIDFormat
		}
	}
	return s, ""
}

package leads

import (
	"strings"
	"unicode"
)

// A mobile number is typed the way people write it: "138 0013 8009",
// "138-0013-8009", "+86 138 0013 8009", "(+86) 13800138009". The console
// keeps and sends the 11 digits of a mainland China mobile: separators
// (spaces, dashes, dots, brackets) are dropped and a country prefix +86,
// 0086 or 86 in front of 11 digits is removed. This is the one place that
// rule lives; the form's control only suggests it.

// mobileSeparators are the characters people put between digit groups.
const mobileSeparators = " -.()（）\u00a0\u3000"

// NormaliseMobile is the 11 digits of a mainland mobile number as typed,
// and whether it is one (1, then 3–9, then nine digits).
func NormaliseMobile(typed string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.TrimSpace(typed) {
		if strings.ContainsRune(mobileSeparators, r) {
			continue
		}
		b.WriteRune(r)
	}
	s := b.String()
	for _, prefix := range []string{"+86", "0086", "86"} {
		if rest, ok := strings.CutPrefix(s, prefix); ok && len(rest) == 11 {
			s = rest
			break
		}
	}
	if len(s) != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9' {
		return s, false
	}
	for _, r := range s {
		if r > unicode.MaxASCII || r < '0' || r > '9' {
			return s, false
		}
	}
	return s, true
}

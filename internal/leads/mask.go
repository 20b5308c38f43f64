package leads

import "strings"

// Mask hides most of a mobile number or an email address, for viewers:
// a mobile keeps its first 3 and last 4 characters (138****5678), an email
// its first character and its domain (z***@example.cn). Values too short
// to keep anything safely are masked whole.
func Mask(v string) string {
	if v == "" {
		return ""
	}
	if at := strings.LastIndexByte(v, '@'); at >= 0 {
		local, domain := []rune(v[:at]), v[at+1:]
		if len(local) == 0 {
			return "***@" + domain
		}
		return string(local[0]) + "***@" + domain
	}
	r := []rune(v)
	if len(r) < 8 {
		return "****"
	}
	return string(r[:3]) + strings.Repeat("*", len(r)-7) + string(r[len(r)-4:])
}

package web

import (
	"regexp"
	"strings"
)

// browserPatterns name a browser from its User-Agent, most specific first
// (Edge and Opera also say Chrome; Chrome also says Safari).
var browserPatterns = []struct {
	name string
	re   *regexp.Regexp
}{
	{"Edge", regexp.MustCompile(`Edg(?:e|A|iOS)?/(\d+)`)},
	{"Opera", regexp.MustCompile(`OPR/(\d+)`)},
	{"WeChat", regexp.MustCompile(`MicroMessenger/(\d+)`)},
	{"Firefox", regexp.MustCompile(`Firefox/(\d+)`)},
	{"Chrome", regexp.MustCompile(`(?:HeadlessChrome|Chrome|CriOS)/(\d+)`)},
	{"Safari", regexp.MustCompile(`Version/(\d+)[^ ]* (?:Mobile/\S+ )?Safari/`)},
}

var systemNames = []struct{ marker, name string }{
	{"Windows", "Windows"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Android", "Android"},
	{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
}

// describeUserAgent turns a User-Agent into "Chrome 156, Linux" for the
// list of sessions; what it cannot read is shown as it came (cut short),
// and nothing at all as "".
func describeUserAgent(ua string) string {
	browser := ""
	for _, p := range browserPatterns {
		if m := p.re.FindStringSubmatch(ua); m != nil {
			browser = p.name + " " + m[1]
			break
		}
	}
	system := ""
	for _, s := range systemNames {
		if strings.Contains(ua, s.marker) {
			system = s.name
			break
		}
	}
	switch {
	case browser != "" && system != "":
		return browser + ", " + system
	case browser != "" || system != "":
		return browser + system
	case len([]rune(ua)) > 60:
		return string([]rune(ua)[:60]) + "…"
	}
	return ua
}

package jobs

import (
	"regexp"
	"strconv"

	"github.com/jingdesk/jingdesk/internal/i18n/msg"
)

// A job's title is what the Jobs page calls it. It is stored once, when
// the job is queued, and read by people of either language, so it is
// stored as a message of the catalogs (jobs.title.*) with its parameters,
// encoded (msg.Encode), and rendered in the reader's language
// (Localizer.Stored). Title builds one.
func Title(id string, args ...msg.Arg) string { return msg.New(id, args...).Encode() }

// legacyTitles are the English titles older versions stored, read back
// as the messages that replaced them, so the jobs they queued read in the
// reader's language too.
var legacyTitles = []struct {
	re   *regexp.Regexp
	id   string
	args func(m []string) []msg.Arg
}{
	{regexp.MustCompile(`^Lead sync$`), "jobs.title.lead_sync", nil},
	{regexp.MustCompile(`^Lead sync \(full\)$`), "jobs.title.lead_sync_full", nil},
	{regexp.MustCompile(`^Reference data refresh$`), "jobs.title.reference", nil},
	{regexp.MustCompile(`^Reference data refresh: (.+)$`), "jobs.title.reference_set", func(m []string) []msg.Arg {
		return []msg.Arg{msg.Str("Set", m[1])}
	}},
	{regexp.MustCompile(`^Refresh the crowd list$`), "jobs.title.crowd_sync", nil},
	{regexp.MustCompile(`^Fetch scores of all leads$`), "jobs.title.scores_all", nil},
	{regexp.MustCompile(`^Fetch scores of crowd (\d+)$`), "jobs.title.scores_crowd", func(m []string) []msg.Arg {
		return []msg.Arg{msg.Str("Crowd", m[1])}
	}},
	{regexp.MustCompile(`^Fetch scores of the leads of (.+)$`), "jobs.title.scores_leads", func(m []string) []msg.Arg {
		return []msg.Arg{msg.Str("BusinessType", m[1])}
	}},
	{regexp.MustCompile(`^Clear the activity scores of (\d+) persons$`), "jobs.title.scores_clear", func(m []string) []msg.Arg {
		return []msg.Arg{count(m[1])}
	}},
	{regexp.MustCompile(`^Bulk change of (\d+) leads: (owner|add_collaborators|remove_collaborators|status)$`), "jobs.title.leads_bulk",
		func(m []string) []msg.Arg {
			return []msg.Arg{count(m[1]), msg.Nested("Action", msg.New("leads.list.bulk.action."+m[2]))}
		}},
	{regexp.MustCompile(`^Import (.+) into (.+)$`), "jobs.title.import", func(m []string) []msg.Arg {
		return []msg.Arg{msg.Str("File", m[1]), msg.Str("Crowd", m[2])}
	}},
	{regexp.MustCompile(`^Validate (.+)$`), "jobs.title.validate", func(m []string) []msg.Arg {
		return []msg.Arg{msg.Str("File", m[1])}
	}},
	{regexp.MustCompile(`^Consent check of (\d+) mobiles for (.+)$`), "jobs.title.consent", func(m []string) []msg.Arg {
		return []msg.Arg{count(m[1]), msg.Str("Send", m[2])}
	}},
}

func count(s string) msg.Arg {
	n, _ := strconv.ParseInt(s, 10, 64)
	return msg.Int("Count", n)
}

// StoredTitle is a job's stored title as Localizer.Stored reads it: an
// encoded message as it is, an English title of an older version as the
// message that replaced it; any other text (a test's) as it is.
func StoredTitle(stored string) string {
	if _, ok := msg.Decode(stored); ok {
		return stored
	}
	for _, l := range legacyTitles {
		if m := l.re.FindStringSubmatch(stored); m != nil {
			var args []msg.Arg
			if l.args != nil {
				args = l.args(m)
			}
			return Title(l.id, args...)
		}
	}
	return stored
}

package leads

import "net/url"

// The lead page's timeline (issue 20): one list, newest first, of the
// lead's status changes, notes, owner and collaborator changes, the sends
// that reached it and its score changes, in pages; "more" (htmx) appends
// the next page in place of itself.

// Timeline is a page of a lead's timeline.
type Timeline struct {
	UUID string
	Rows []TimelineRow
	Next string // the cursor of the next page ("" after the last)
}

// TimelineRow is one entry, its sentences already in the reader's language.
type TimelineRow struct {
	At   int64
	Kind string // status, note, owner, collaborators, send, score
	// Title is the entry's line ("新线索 → 已联系", "负责人：王芳 → 李娜");
	// Body is a note's text.
	Title, Body string
	// By says who and from where ("mia · 在控制台").
	By   string
	Link string // the send's page, for a send
}

// TimelinePath is a lead's timeline fragment; after is the cursor.
func TimelinePath(uuid, after string) string {
	p := LeadPath(uuid) + "/timeline"
	if after != "" {
		p += "?after=" + url.QueryEscape(after)
	}
	return p
}

// Package live holds the pages of the platform's webhooks (issue 9): the
// stored events, and one event with its body.
package live

import (
	"net/url"
	"strconv"
)

// EventsPath is the list of stored events.
const EventsPath = "/settings/webhooks"

// States are the states an event can be in, in the order pages list them.
var States = []string{"pending", "applied", "skipped", "unknown", "failed"}

// EventsURL is the list filtered by state (all: ""), from before an id (0: the newest).
func EventsURL(state string, before int64) string {
	v := url.Values{}
	if state != "" {
		v.Set("state", state)
	}
	if before > 0 {
		v.Set("before", strconv.FormatInt(before, 10))
	}
	if len(v) == 0 {
		return EventsPath
	}
	return EventsPath + "?" + v.Encode()
}

// EventPath is one event.
func EventPath(id int64) string { return EventsPath + "/" + strconv.FormatInt(id, 10) }

// StateCount is how many stored events are in a state.
type StateCount struct {
	State string
	Count int64
}

// EventsView is a page of stored events, newest first.
type EventsView struct {
	State  string // the filter ("" all)
	Counts []StateCount
	Events []EventRow
	// OlderURL is the next page back (empty on the last); Paged: not the first page.
	OlderURL string
	Paged    bool
	// Requeueable counts the unknown and failed events ("Apply again").
	Requeueable int64
	Rejected    int64
}

// EventRow is one stored event.
type EventRow struct {
	ID                               int64
	ReceivedAt, EventTime, AppliedAt int64
	Type, Object, EntityID           string
	State, Reason                    string
	Duplicates                       int64
}

// Requeueable: unknown and failed events can be applied again.
func (e EventRow) Requeueable() bool { return e.State == "unknown" || e.State == "failed" }

// EventView is one event with its body pretty-printed.
type EventView struct {
	Event    EventRow
	Body     string
	BodySize int
}

func badge(state string) string {
	switch state {
	case "applied":
		return "badge badge-success"
	case "pending", "skipped":
		return "badge"
	case "unknown":
		return "badge badge-warning"
	}
	return "badge badge-danger"
}

func i64(n int64) string { return strconv.FormatInt(n, 10) }

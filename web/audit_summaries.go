package web

import (
	"strings"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/refdata"
)

// An audit entry's summary is read by admins of either language, long
// after it was written: it is stored as a message of the catalogs
// (audit.summary.*) with its parameters, encoded, and the audit page reads
// it in the reader's language (Localizer.Stored). Names are resolved when
// the entry is written (a status's name, not its id): the page cannot
// resolve them later. Older entries stored in English read as they are.

// summary is the message audit.summary.<id>.
func summary(id string, args ...msg.Arg) msg.Message { return msg.New("audit.summary."+id, args...) }

// notSentChanged is the summary of a write the console did not send
// because the lead changed on the platform meanwhile.
func notSentChanged(what msg.Message) string {
	return summary("not_sent_changed", msg.Nested("What", what)).Encode()
}

// refusalAudit is the outcome and summary of a write the platform refused
// or whose effect is unknown: what was asked, and the platform's error.
func refusalAudit(what msg.Message, je *jing.Error) (outcome, stored string) {
	outcome, id := db.OutcomeFailed, "refused"
	if je.EffectUnknown() {
		outcome, id = db.OutcomeUnknown, "unknown"
	}
	return outcome, summary(id, msg.Nested("What", what), msg.Nested("Error", je.Message())).Encode()
}

// joinedNames is a list of names as one parameter.
func joinedNames(names []string) msg.Arg { return msg.Str("Names", strings.Join(names, "、")) }

// memberName is a member's name for a summary ("" for none).
func memberName(r *refdata.Resolver, lang, id string) string {
	if id == "" {
		return ""
	}
	return r.Member(lang, id)
}

// memberNames are members' names for a summary.
func memberNames(r *refdata.Resolver, lang string, ids []string) string {
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = r.Member(lang, id)
	}
	return strings.Join(names, "、")
}

// fieldNames are the names of a lead's fields, by code.
func fieldNames(r *refdata.Resolver, lang, businessType string, codes []string) []string {
	names := make([]string, len(codes))
	for i, code := range codes {
		names[i] = r.Field(lang, leadObject, businessType, code)
	}
	return names
}

// roleName is a role as its catalog name.
func roleName(role string) msg.Message { return msg.New("role." + role) }

// passwordOrigin says whether a password was generated or typed.
func passwordOrigin(generated bool) msg.Message {
	if generated {
		return summary("password_generated")
	}
	return summary("password_typed")
}

// counted is "name n": a status's catalog name and how many had it.
func counted(name msg.Message, n int) msg.Message {
	return summary("counted", msg.Nested("Name", name), msg.Int("Count", int64(n)))
}

// actionName is an action a user takes on a job, an import or an account
// (pause, resume, cancel, disable, demote, …), as its catalog name.
func actionName(action string) msg.Message { return summary("action." + action) }

// requestedAction is the action that asks a job for a state.
func requestedAction(state string) string {
	switch state {
	case db.JobPaused:
		return "pause"
	case db.JobCancelled:
		return "cancel"
	}
	return "resume"
}

package sends

import (
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
)

// The refusals of the sends service: each a sentence of the catalogs
// (sends.error.*), a kind the web layer turns into a status, and the form
// field it is about. They are sentinels, so errors.Is finds them; the web
// layer shows them (userMessage) and never maps them to words itself.

// A draft as written (validate, draft.go).
var (
	ErrNoName        = msg.Refuse(msg.Invalid, "sends.error.no_name").On("name")
	ErrNoMessage     = msg.Refuse(msg.Invalid, "sends.error.no_message").On("message")
	ErrNoSubject     = msg.Refuse(msg.Invalid, "sends.error.no_subject").On("subject")
	ErrNoMailbox     = msg.Refuse(msg.Invalid, "sends.error.no_mailbox").On("mailbox")
	ErrNoHTML        = msg.Refuse(msg.Invalid, "sends.error.no_html").On("html")
	ErrHTMLTooLarge  = msg.Refuse(msg.Invalid, "sends.error.html_too_large", msg.Int("MB", HTMLMax>>20)).On("html")
	ErrNoAudience    = msg.Refuse(msg.Invalid, "sends.error.no_audience").On("audience")
	ErrNoCrowd       = msg.Refuse(msg.Invalid, "sends.error.no_crowd").On("audience")
	ErrBothAudiences = msg.Refuse(msg.Invalid, "sends.error.both_audiences").On("audience")
	ErrCrowdGone     = msg.Refuse(msg.Invalid, "sends.error.crowd_gone").On("audience")
	ErrNoTime        = msg.Refuse(msg.Invalid, "sends.error.no_time").On("when")
	ErrPastTime      = msg.Refuse(msg.Invalid, "sends.error.past_time").On("when")
	// ErrMailboxUnverified: the mailbox chosen is not among the platform's
	// verified ones (gone, or never verified).
	ErrMailboxUnverified = msg.Refuse(msg.Invalid, "sends.error.mailbox_unverified").On("mailbox")
)

// ErrInvalidMobiles refuses a pasted list holding n entries that are not
// mobiles: they are listed for the user to correct, never dropped silently.
func ErrInvalidMobiles(n int) error {
	return msg.Refuse(msg.Invalid, "sends.error.invalid_mobiles", msg.Int("Count", int64(n))).On("mobiles")
}

// An uploaded HTML body (ReadHTML, html.go).
var ErrFileTooLarge = ErrHTMLTooLarge.On("file")

// fileRefusal refuses the uploaded file name for a reason of html.go
// (sends.error.file_<reason>).
func fileRefusal(reason, name string) error {
	return msg.Refuse(msg.Invalid, "sends.error.file_"+reason, msg.Str("File", name)).On("file")
}

// The ledger's steps (ledger.go, follow.go, consent.go).
var (
	ErrNotAllowed       = msg.Refuse(msg.Forbidden, "sends.error.not_allowed")
	ErrOwnApproval      = msg.Refuse(msg.Forbidden, "sends.error.own_approval")
	ErrNotDraft         = msg.Refuse(msg.Conflict, "sends.error.not_draft")
	ErrStarted          = msg.Refuse(msg.Conflict, "sends.error.started")
	ErrStateChanged     = msg.Refuse(msg.Conflict, "sends.error.state_changed")
	ErrCountMismatch    = msg.Refuse(msg.Invalid, "sends.error.count_mismatch").On("typed")
	ErrEmptyAudience    = msg.Refuse(msg.Invalid, "sends.error.empty_audience")
	ErrNoTestRecipients = msg.Refuse(msg.Conflict, "sends.error.no_test_recipients")
	ErrConsentNeedsList = msg.Refuse(msg.Invalid, "sends.error.consent_needs_list")
	// ErrNoPlatform: no platform connection is set up to send through.
	ErrNoPlatform = msg.Refuse(msg.Unavailable, "sends.error.no_platform")
)

// errTestAddress: the platform would not take a test address into the
// test crowd (its own reason given).
func errTestAddress(address, reason string) error {
	return msg.Refuse(msg.Invalid, "sends.error.test_address", msg.Str("Address", address), msg.Str("Reason", reason))
}

// Settings → Sends (settings.go).

// errBadRecipient refuses a test recipient that is not a mobile (field
// test_mobiles) or an email address (test_emails).
func errBadRecipient(field, value string) error {
	return msg.Refuse(msg.Invalid, "sends.error.bad_recipient", msg.Str("Value", value)).On(field)
}

// errBadNumber refuses a threshold that is not a whole number, 0 or more.
func errBadNumber(field string) error {
	return msg.Refuse(msg.Invalid, "sends.error.bad_number").On(field)
}

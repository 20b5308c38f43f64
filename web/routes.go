package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/jobs"

	"github.com/jingdesk/jingdesk/internal/roles"
)

// Access is the least a visitor must be to use a route.
type Access int

const (
	Public   Access = iota // anyone, signed in or not
	Viewer                 // any signed-in user
	Marketer               // marketer or admin
	Admin                  // admin only
)

// Role is the role name an access level requires ("" for Public).
func (a Access) Role() string {
	return [...]string{"", roles.Viewer, roles.Marketer, roles.Admin}[a]
}

// Route is one line of the route table.
type Route struct {
	Method  string
	Path    string
	Access  Access
	Handler echo.HandlerFunc
}

// csrfExemptPaths are the only unsafe routes without a CSRF token: requests
// that never come from a browser session (the platform's webhook, later).
var csrfExemptPaths = map[string]bool{webhookPath: true}

// webhookPath is where the platform posts its events; the secret in the
// path stands in for a session, so logs show the pattern (loggedPath).
const (
	webhookPrefix = "/webhooks/"
	webhookPath   = webhookPrefix + "jing/:secret"
)

func isCSRFExempt(path string) bool { return csrfExemptPaths[path] }

// Routes is the whole route table, top to bottom, with each route's
// access: the one page that says who may do what. Each handler belongs to
// an area (h.jobs, h.auth, …: a small struct built in areas.go; see
// README.md for the pattern, jobs.go for the file to copy); the handlers
// of areas not converted yet are still methods on Server (s.…).
func (s *Server) Routes() []Route {
	const get, post = http.MethodGet, http.MethodPost
	h := s.areas
	return []Route{
		// The way in: no session needed.
		{get, "/healthz", Public, h.site.health},
		{get, "/static/*", Public, h.site.serveStatic},
		{http.MethodHead, "/static/*", Public, h.site.serveStatic},
		{get, "/login", Public, h.auth.showLogin},
		{post, "/login", Public, h.auth.login},
		{get, "/setup", Public, h.auth.showSetup},
		{post, "/setup", Public, h.auth.setup},
		{post, "/lang", Public, h.auth.switchLang},
		{post, webhookPath, Public, h.webhooks.receiveWebhook},

		// Every signed-in user.
		{post, "/logout", Viewer, h.auth.logout},
		{get, "/", Viewer, h.home.showHome},
		{get, "/leads", Viewer, h.leads.showLeads},
		{get, "/settings", Viewer, h.site.showSettings},
		{get, "/settings/account", Viewer, h.auth.showAccount},
		{post, "/settings/account/password", Viewer, h.auth.changeOwnPassword},
		{post, "/settings/account/sessions/:id/end", Viewer, h.auth.endOwnSession}, // only the user's own sessions
		{post, "/settings/account/sessions/end-others", Viewer, h.auth.endOtherOwnSessions},

		{get, "/forms/option-picker", Viewer, h.forms.showOptionPicker}, // the cascading option-set picker's fragment (forms.PickerPath)
		// Background jobs: everyone watches; marketers act on their own, admins on any.
		{get, "/jobs", Viewer, h.jobs.showJobs},
		{get, "/jobs/table", Viewer, h.jobs.showJobsTable},
		{get, "/jobs/:id", Viewer, h.jobs.showJob},
		{post, "/jobs/:id/pause", Marketer, h.jobs.actOnJob(jobs.Pause)},
		{post, "/jobs/:id/resume", Marketer, h.jobs.actOnJob(jobs.Resume)},
		{post, "/jobs/:id/cancel", Marketer, h.jobs.actOnJob(jobs.Cancel)},

		// Leads: everyone sees the board; marketers and admins move cards
		// (sent to the platform) and ask for a sync of the local copy.
		{get, "/leads/board", Viewer, h.leads.showLeadBoard},
		{get, "/leads/board/column", Viewer, h.leads.showBoardColumn},
		{get, "/leads/changes", Viewer, h.leads.showLeadChanges}, // what changed after a seq: open boards and lead pages follow it
		{post, "/leads/sync", Marketer, h.leads.syncLeads},
		{post, "/leads/:uuid/move", Marketer, h.leads.moveLead},

		// The lead page: everyone reads it (contact data masked for
		// viewers); the platform's data comes in fragments after the page.
		// Marketers and admins change the owner and the collaborators.
		{get, "/leads/:uuid", Viewer, h.leads.showLead},
		{get, "/leads/:uuid/link", Viewer, h.leads.showLeadLink},
		{get, "/leads/:uuid/privacy", Viewer, h.leads.showLeadPrivacy},
		{get, "/leads/:uuid/scores", Viewer, h.leads.showLeadScores},
		{post, "/leads/:uuid/owner", Marketer, h.leads.setLeadOwner},
		{post, "/leads/:uuid/collaborators", Marketer, h.leads.setLeadCollaborators},
		{post, "/leads/:uuid/notes", Marketer, h.leads.addLeadNote},
		{get, "/leads/:uuid/edit", Marketer, h.leads.showLeadEdit},
		{post, "/leads/:uuid/edit", Marketer, h.leads.saveLeadEdit},
		{get, "/leads/new", Marketer, h.leads.showNewLead},
		{post, "/leads/new", Marketer, h.leads.createLead},
		{get, "/sandbox/leads/:uuid", Viewer, h.leads.showSandboxLead}, // the sandbox's leads.detail_link

		// The leads list: everyone searches, filters and pages the local
		// copy (mobile and email masked for viewers).
		{get, "/leads/list", Viewer, h.leads.showLeadList},
		{post, "/leads/bulk/preview", Marketer, h.leads.previewBulk},
		{post, "/leads/bulk", Marketer, h.leads.runBulk},
		// The list's export: what the filter shows, masked for viewers as
		// the list is; a large one is a job whose file its owner downloads.
		{post, "/leads/export", Viewer, h.leads.exportLeads},
		{get, "/leads/exports/:id/file", Viewer, h.leads.downloadExport},

		// Saved views of the board and the list: everyone saves their own
		// and opens theirs and the team's; the owner (or an admin) edits.
		{post, "/leads/views", Viewer, h.views.createView},
		{get, "/leads/views/:id", Viewer, h.views.openView},
		{post, "/leads/views/:id", Viewer, h.views.updateView},
		{post, "/leads/views/:id/delete", Viewer, h.views.deleteView},
		{post, "/leads/views/:id/default", Viewer, h.views.defaultView},

		// Crowds: everyone sees the list, a crowd and its members; marketers
		// and admins create, edit and delete (on the platform first).
		{get, "/crowds", Viewer, h.crowds.showCrowds},
		{get, "/crowds/table", Viewer, h.crowds.showCrowdsTable},
		{post, "/crowds/sync", Marketer, h.crowds.syncCrowds},
		{post, "/crowds", Marketer, h.crowds.createCrowd},
		{get, "/crowds/:id", Viewer, h.crowds.showCrowd},
		{get, "/crowds/:id/members", Viewer, h.crowds.showCrowdMembers},
		{post, "/crowds/:id", Marketer, h.crowds.updateCrowd},
		{post, "/crowds/:id/delete", Marketer, h.crowds.deleteCrowd},

		// Imports: everyone sees the history and an import's progress;
		// marketers and admins upload, map, start and download the rows
		// (identity data); the owner or an admin pauses, resumes, cancels.
		{get, "/imports", Viewer, h.imports.showImports},
		{get, "/imports/badge", Viewer, h.imports.showImportsBadge},
		{get, "/imports/new", Marketer, h.imports.showNewImport},
		{post, "/imports", Marketer, h.imports.uploadImport},
		{get, "/imports/:id", Viewer, h.imports.showImport},
		{get, "/imports/:id/progress", Viewer, h.imports.showImportProgress},
		{post, "/imports/:id/reading", Marketer, h.imports.setImportReading},
		{post, "/imports/:id/validate", Marketer, h.imports.validateImport},
		{post, "/imports/:id/validate/cancel", Marketer, h.imports.cancelImportValidation},
		{get, "/imports/:id/crowds", Marketer, h.imports.showImportCrowds},
		{get, "/imports/:id/estimate", Marketer, h.imports.showImportEstimate},
		{post, "/imports/:id/start", Marketer, h.imports.startImport},
		{post, "/imports/:id/discard", Marketer, h.imports.discardImport},
		{post, "/imports/:id/pause", Marketer, h.imports.actOnImport(jobs.Pause)},
		{post, "/imports/:id/resume", Marketer, h.imports.actOnImport(jobs.Resume)},
		{post, "/imports/:id/cancel", Marketer, h.imports.actOnImport(jobs.Cancel)},
		{get, "/imports/:id/rows.csv", Marketer, h.imports.downloadImportRows},

		// SMS sends: everyone sees the messages, the sends and their
		// delivery; marketers and admins write drafts, test, confirm.
		{get, "/sms", Viewer, h.sends.showSMS},
		{get, "/sms/new", Marketer, h.sends.showNewSMS},
		{post, "/sms", Marketer, h.sends.createSMS},
		{get, "/sms/sends/:id", Viewer, h.sends.showSMSSend},
		{post, "/sms/sends/:id", Marketer, h.sends.updateSMS},
		{post, "/sms/sends/:id/consent", Marketer, h.sends.checkSMSConsent},

		// Email sends: the same, with an HTML body previewed in a sandboxed frame.
		{get, "/email", Viewer, h.sends.showEmail},
		{get, "/email/new", Marketer, h.sends.showNewEmail},
		{post, "/email", Marketer, h.sends.createEmail},
		{get, "/email/sends/:id", Viewer, h.sends.showEmailSend},
		{post, "/email/sends/:id", Marketer, h.sends.updateEmail},
		{get, "/email/sends/:id/preview", Viewer, h.sends.previewEmail},

		// Both channels: the ledger's steps and the delivery records.
		{get, "/sends/:id/confirm", Marketer, h.sends.showSendConfirmation},
		{post, "/sends/:id/confirm", Marketer, h.sends.confirmSend},
		{post, "/sends/:id/test", Marketer, h.sends.testSend},
		{post, "/sends/:id/approve", Marketer, h.sends.approveSend},
		{post, "/sends/:id/reject", Marketer, h.sends.rejectSend},
		{post, "/sends/:id/cancel", Marketer, h.sends.cancelSend},
		{post, "/sends/:id/decide", Marketer, h.sends.decideSend},
		{get, "/sends/:id/status", Viewer, h.sends.showSendStatus},
		{get, "/sends/:id/records", Viewer, h.sends.showSendRecords},
		{post, "/sends/:id/records/sync", Marketer, h.sends.syncSendRecords},
		{get, "/sends/:id/records.csv", Marketer, h.sends.exportSendRecords},

		// Scores: everyone looks; marketers refresh, export and save a
		// selection as a crowd; only admins clear activity scores.
		{get, "/scores", Viewer, h.scores.showScores},
		{get, "/scores/movers", Viewer, h.scores.showScoreMovers},
		{get, "/scores/selection", Viewer, h.scores.showScoreSelection},
		{post, "/scores/fetch", Marketer, h.scores.fetchScores},
		{post, "/scores/crowd", Marketer, h.scores.saveScoresAsCrowd},
		{get, "/scores/export.csv", Marketer, h.scores.exportScoresCSV},
		{get, "/scores/export.xlsx", Marketer, h.scores.exportScoresXLSX},
		{post, "/scores/clear", Admin, h.scores.clearActivityScores},
		{get, "/persons/:uuid", Viewer, h.persons.showPerson},

		// Reference data.
		// Everyone looks at the sets the platform's ids resolve through;
		// marketers and admins refresh them (one set or all, as a job).
		{get, "/settings/reference", Viewer, h.reference.showReference},
		{get, "/settings/reference/sets", Viewer, h.reference.showReferenceSets},
		{get, "/settings/reference/set", Viewer, h.reference.showReferenceSet},
		{post, "/settings/reference/refresh", Marketer, h.reference.refreshReference},

		// Administration: accounts, the audit log and the platform connection.
		// (admin routes)
		{get, "/settings/users", Admin, h.users.showUsers},
		{post, "/settings/users", Admin, h.users.createUser},
		{post, "/settings/users/:id/role", Admin, h.users.changeUserRole},
		{post, "/settings/users/:id/disable", Admin, h.users.disableUser},
		{post, "/settings/users/:id/enable", Admin, h.users.enableUser},
		{post, "/settings/users/:id/password", Admin, h.users.resetUserPassword},
		{post, "/settings/users/:id/sessions/end", Admin, h.users.endUserSessions}, // sign out everywhere
		{get, "/settings/audit", Admin, h.audit.showAudit},
		{get, "/settings/sends", Admin, h.sends.showSendSettings},
		{post, "/settings/sends", Admin, h.sends.saveSendSettings},
		{get, "/settings/system", Admin, h.system.showSystem},
		{post, "/settings/system/backups", Admin, h.system.saveBackupSchedule},
		{get, "/metrics", Admin, h.system.showMetrics},

		// The platform connection: settings, the connection test, the endpoint
		// check, the verification of answers (its plan, then the run), usage.
		{get, "/settings/platform", Admin, h.platform.showPlatform},
		{post, "/settings/platform", Admin, h.platform.savePlatform},
		{post, "/settings/platform/secret/clear", Admin, h.platform.clearPlatformSecret},
		{post, "/settings/platform/test", Admin, h.platform.testPlatform},
		{post, "/settings/platform/check", Admin, h.platform.checkEndpoints},
		{get, "/settings/platform/verify", Admin, h.platform.showVerifyPlan},
		{post, "/settings/platform/verify", Admin, h.platform.verifyAnswers},
		{get, "/settings/platform/usage", Admin, h.platform.showPlatformUsage},
		{post, "/settings/platform/webhook/rotate", Admin, h.webhooks.rotateWebhookSecret},
		{post, "/settings/platform/webhook/retention", Admin, h.webhooks.saveWebhookRetention},
		{get, "/settings/webhooks", Admin, h.webhooks.showWebhookEvents},
		{get, "/settings/webhooks/:id", Admin, h.webhooks.showWebhookEvent},
		{post, "/settings/webhooks/requeue", Admin, h.webhooks.requeueWebhookEvents},
	}
}

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
		{get, "/", Viewer, h.site.home},
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

		// Crowds: everyone sees the list, a crowd and its members; marketers
		// and admins create, edit and delete (on the platform first).
		{get, "/crowds", Viewer, s.showCrowds},
		{get, "/crowds/table", Viewer, s.showCrowdsTable},
		{post, "/crowds/sync", Marketer, s.syncCrowds},
		{post, "/crowds", Marketer, s.createCrowd},
		{get, "/crowds/:id", Viewer, s.showCrowd},
		{get, "/crowds/:id/members", Viewer, s.showCrowdMembers},
		{post, "/crowds/:id", Marketer, s.updateCrowd},
		{post, "/crowds/:id/delete", Marketer, s.deleteCrowd},

		// Imports: everyone sees the history and an import's progress;
		// marketers and admins upload, map, start and download the rows
		// (identity data); the owner or an admin pauses, resumes, cancels.
		{get, "/imports", Viewer, s.showImports},
		{get, "/imports/badge", Viewer, s.showImportsBadge},
		{get, "/imports/new", Marketer, s.showNewImport},
		{post, "/imports", Marketer, s.uploadImport},
		{get, "/imports/:id", Viewer, s.showImport},
		{get, "/imports/:id/progress", Viewer, s.showImportProgress},
		{post, "/imports/:id/reading", Marketer, s.setImportReading},
		{post, "/imports/:id/validate", Marketer, s.validateImport},
		{post, "/imports/:id/validate/cancel", Marketer, s.cancelImportValidation},
		{get, "/imports/:id/crowds", Marketer, s.showImportCrowds},
		{get, "/imports/:id/estimate", Marketer, s.showImportEstimate},
		{post, "/imports/:id/start", Marketer, s.startImport},
		{post, "/imports/:id/discard", Marketer, s.discardImport},
		{post, "/imports/:id/pause", Marketer, s.actOnImport(jobs.Pause)},
		{post, "/imports/:id/resume", Marketer, s.actOnImport(jobs.Resume)},
		{post, "/imports/:id/cancel", Marketer, s.actOnImport(jobs.Cancel)},
		{get, "/imports/:id/rows.csv", Marketer, s.downloadImportRows},

		// SMS sends: everyone sees the messages, the sends and their
		// delivery; marketers and admins write drafts, test, confirm.
		{get, "/sms", Viewer, s.showSMS},
		{get, "/sms/new", Marketer, s.showNewSMS},
		{post, "/sms", Marketer, s.createSMS},
		{get, "/sms/sends/:id", Viewer, s.showSMSSend},
		{post, "/sms/sends/:id", Marketer, s.updateSMS},
		{post, "/sms/sends/:id/consent", Marketer, s.checkSMSConsent},

		// Email sends: the same, with an HTML body previewed in a sandboxed frame.
		{get, "/email", Viewer, s.showEmail},
		{get, "/email/new", Marketer, s.showNewEmail},
		{post, "/email", Marketer, s.createEmail},
		{get, "/email/sends/:id", Viewer, s.showEmailSend},
		{post, "/email/sends/:id", Marketer, s.updateEmail},
		{get, "/email/sends/:id/preview", Viewer, s.previewEmail},

		// Both channels: the ledger's steps and the delivery records.
		{get, "/sends/:id/confirm", Marketer, s.showSendConfirmation},
		{post, "/sends/:id/confirm", Marketer, s.confirmSend},
		{post, "/sends/:id/test", Marketer, s.testSend},
		{post, "/sends/:id/approve", Marketer, s.approveSend},
		{post, "/sends/:id/reject", Marketer, s.rejectSend},
		{post, "/sends/:id/cancel", Marketer, s.cancelSend},
		{post, "/sends/:id/decide", Marketer, s.decideSend},
		{get, "/sends/:id/status", Viewer, s.showSendStatus},
		{get, "/sends/:id/records", Viewer, s.showSendRecords},
		{post, "/sends/:id/records/sync", Marketer, s.syncSendRecords},
		{get, "/sends/:id/records.csv", Marketer, s.exportSendRecords},

		// Scores: everyone looks; marketers refresh, export and save a
		// selection as a crowd; only admins clear activity scores.
		{get, "/scores", Viewer, s.showScores},
		{get, "/scores/movers", Viewer, s.showScoreMovers},
		{get, "/scores/selection", Viewer, s.showScoreSelection},
		{post, "/scores/fetch", Marketer, s.fetchScores},
		{post, "/scores/crowd", Marketer, s.saveScoresAsCrowd},
		{get, "/scores/export.csv", Marketer, s.exportScoresCSV},
		{get, "/scores/export.xlsx", Marketer, s.exportScoresXLSX},
		{post, "/scores/clear", Admin, s.clearActivityScores},
		{get, "/persons/:uuid", Viewer, s.showPerson},

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
		{get, "/settings/sends", Admin, s.showSendSettings},
		{post, "/settings/sends", Admin, s.saveSendSettings},
		{get, "/settings/system", Admin, h.system.showSystem},
		{post, "/settings/system/backups", Admin, h.system.saveBackupSchedule},
		{post, "/settings/system/retention", Admin, h.system.saveRetention},
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

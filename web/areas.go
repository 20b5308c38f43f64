package web

import (
	"github.com/jingdesk/jingdesk/internal/auth"
	"github.com/jingdesk/jingdesk/internal/home"
	"github.com/jingdesk/jingdesk/internal/views"
	"github.com/jingdesk/jingdesk/templates/forms"
)

// areas are the rooms of the web layer: one struct per area, holding only
// what its handlers need, as narrow interfaces declared in the area's own
// file. The route table (routes.go) names their handlers.
type areas struct {
	site      *siteArea
	auth      *authArea
	users     *usersArea
	audit     *auditArea
	jobs      *jobsArea
	platform  *platformArea
	webhooks  *webhooksArea
	system    *systemArea
	reference *referenceArea
	leads     *leadsArea
	forms     *formsArea
	crowds    *crowdsArea
	imports   *importsArea
	sends     *sendsArea
	scores    *scoresArea
	persons   *personsArea
	views     *viewsArea
	home      *homeArea
}

// newAreas is the one place each area gets its part of Deps: the services
// it calls (each satisfies the area's narrow interfaces) and the shared
// kit. A new area is built here and nowhere else.
func newAreas(d Deps, k *kit, si *signIns, m *httpMetrics) *areas {
	hooks := &webhooksArea{kit: k, hooks: d.Webhooks, events: d.Store}
	saved := views.New(d.Store)
	return &areas{
		site: &siteArea{kit: k, db: d.Store},
		auth: &authArea{kit: k, users: d.Store, signIns: si, throttle: auth.NewThrottle(5, defaultThrottleWindow),
			verifyPassword: auth.VerifyPassword, setupToken: d.SetupToken},
		users:    &usersArea{kit: k, users: d.Store, signIns: si},
		audit:    &auditArea{kit: k, entries: d.Store},
		jobs:     &jobsArea{kit: k, jobs: d.Store, acts: jobActs{kit: k, runner: d.Jobs}, download: exportDownload(d.LeadExports)},
		platform: &platformArea{kit: k, platform: d.Platform, catalogFile: d.CatalogFile, webhookCard: hooks.card},
		webhooks: hooks,
		system: &systemArea{kit: k, store: d.Store, platform: d.Platform, metrics: m, build: d.Build,
			dataDir: d.DataDir, startedAt: d.StartedAt, metricsAddr: d.MetricsAddr},
		reference: &referenceArea{kit: k, ref: d.Reference, jobs: d.Store},
		leads: &leadsArea{kit: k, copy: d.Store, leads: d.Leads, ref: d.Reference, scores: d.Scores,
			platform: d.Platform, board: newBoardCache(), views: saved, exports: d.LeadExports},
		forms:   &formsArea{kit: k, tree: optionTree(d)},
		crowds:  &crowdsArea{kit: k, crowds: d.Crowds, local: d.Store},
		imports: &importsArea{kit: k, imports: d.Crowds, store: d.Store, acts: jobActs{kit: k, runner: d.Jobs}},
		sends:   &sendsArea{kit: k, sends: d.Sends, ledger: d.Store},
		scores:  &scoresArea{kit: k, scores: d.Scores, choices: d.Store, ref: d.Reference},
		persons: &personsArea{kit: k, people: d.Scores},
		views:   &viewsArea{kit: k, views: saved},
		home: &homeArea{kit: k, ref: d.Reference,
			home: home.New(home.Config{Store: d.Store, Platform: d.Platform, DataDir: d.DataDir, Now: d.Now, Logger: d.Logger})},
	}
}

// optionTree is the option-set picker's tree source: Deps' own, or the
// reference data's.
func optionTree(d Deps) func(lang, object, fieldCode string) []*forms.TreeChoice {
	if d.OptionTree != nil {
		return d.OptionTree
	}
	return referenceTree(d.Reference)
}

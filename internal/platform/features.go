package platform

import (
	"slices"
	"strings"
)

// Feature is a part of the console that depends on platform endpoints. Its
// value is the navigation section its pages belong to ("leads", "crowds",
// …), so a page knows its feature without a second table.
type Feature string

// The features, in navigation order.
const (
	FeatureLeads   Feature = "leads"
	FeatureCrowds  Feature = "crowds"
	FeatureImports Feature = "imports"
	FeatureSMS     Feature = "sms"
	FeatureEmail   Feature = "email"
	FeatureScores  Feature = "scores"
)

// Features lists every feature, in navigation order.
var Features = []Feature{FeatureLeads, FeatureCrowds, FeatureImports, FeatureSMS, FeatureEmail, FeatureScores}

// featureEndpoints is the one table of which endpoints each feature calls
// (reads and writes): the verification of answers warns a feature's pages
// when one of them failed, and the report says which features an endpoint
// serves. Reference data (objects.*, members.list, leads.status_list) is
// listed under the features whose pages resolve names through it.
var featureEndpoints = map[Feature][]string{
	// The board, the list, the lead's page, its forms, moves and bulk
	// changes; the person's consent and scores on the lead's page.
	FeatureLeads: {"leads.list", "leads.query", "leads.status_list", "leads.detail_link", "leads.create", "leads.update",
		"leads.status_update", "leads.collaborators", "objects.business_types", "objects.fields", "objects.option_set",
		"objects.source_options", "objects.custom_options", "members.list", "privacy.status",
		"scores.lead_identity", "scores.lead_active", "scores.lead_intention"},
	// The crowd list, a crowd's page with its members, create, rename, delete.
	FeatureCrowds: {"crowds.list", "crowds.detail", "crowds.users", "crowds.create", "crowds.update", "crowds.delete"},
	// The import wizard and its job: identities resolved, persons created,
	// members checked and added.
	FeatureImports: {"crowds.list", "crowds.create", "crowds.users", "crowds.import", "users.identity_batch", "users.query",
		"users.create"},
	// Messages, the audience (crowds or pasted mobiles checked for consent),
	// the send and its delivery.
	FeatureSMS: {"sms.list", "sms.task_create", "sms.send", "sms.send_detail", "crowds.list", "privacy.status"},
	FeatureEmail: {"edm.mailboxes", "edm.list", "edm.detail", "edm.create", "edm.update", "edm.delete", "edm.records",
		"crowds.list"},
	// The cache of scores by crowd or by leads, saving a selection as a
	// crowd, clearing activity.
	FeatureScores: {"scores.user_identity", "scores.user_active", "scores.user_intention", "scores.lead_identity",
		"scores.lead_active", "scores.lead_intention", "scores.user_active_clear", "crowds.list", "crowds.users",
		"leads.list", "crowds.create", "crowds.import", "users.identity_batch"},
}

// FeatureEndpoints are the endpoints feature f calls.
func FeatureEndpoints(f Feature) []string { return featureEndpoints[f] }

// FeaturesOf are the features that call endpoint key, in navigation order.
// The token endpoints serve every feature.
func FeaturesOf(key string) []Feature {
	if strings.HasPrefix(key, "oauth.") {
		return Features
	}
	var out []Feature
	for _, f := range Features {
		if slices.Contains(featureEndpoints[f], key) {
			out = append(out, f)
		}
	}
	return out
}

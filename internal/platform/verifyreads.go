package platform

import (
	"context"

	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/jing"
)

// The reads a verification makes: one check per read-only endpoint, the
// call its feature makes with the ids earlier answers gave (verify.go runs
// them and reports).

// verifyPerPage is how many items a list read asks for: enough to check
// the shape of a few items, one call whatever the size of the tenant.
const verifyPerPage = 20

// verifyWorkers is how many reads run at once (each endpoint is paced by the client anyway).
const verifyWorkers = 4

// readCheck is how one read-only endpoint is verified: the call its
// feature makes, and the endpoints whose answers give it an id.
type readCheck struct {
	key   string
	after []string
	read  func(ctx context.Context, v *verifier) (readOutcome, error)
}

// readOutcome is what a read learned besides its error.
type readOutcome struct {
	noMeta bool // a list answered without _meta
}

// listOutcome notes whether a page came without _meta.
func listOutcome(info jing.PageInfo) readOutcome { return readOutcome{noMeta: !info.Meta.Known()} }

// nothingToRead is a read that was not made: no id to read by.
type nothingToRead struct{ reason msg.Message }

func (n nothingToRead) Error() string { return "nothing to read: " + n.reason.ID }

func nothing(id string, args ...msg.Arg) error { return nothingToRead{msg.New(id, args...)} }

// readChecks are every read-only endpoint of the catalog (a test holds
// this to the catalog), in the order reports list them.
var readChecks = []readCheck{
	{key: "members.list", read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		p, err := v.client.ListMembers(ctx, jing.PageRequest{Page: 1, PerPage: verifyPerPage})
		return listOutcome(p.Info()), err
	}},
	{key: "objects.business_types", read: readBusinessTypes},
	{key: "leads.status_list", after: []string{"objects.business_types"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		bt := v.sample().businessType
		if bt == "" {
			return readOutcome{}, nothing("platform.verify.nothing.business_type")
		}
		_, err := v.client.LeadStatuses(ctx, bt)
		return readOutcome{}, err
	}},
	{key: "objects.fields", after: []string{"objects.business_types"}, read: readFields},
	{key: "objects.option_set", after: []string{"objects.fields"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		code := v.sample().optionSetField
		if code == "" {
			return readOutcome{}, nothing("platform.verify.nothing.field", msg.Str("Type", jing.FieldOptionSet))
		}
		_, err := v.client.OptionSet(ctx, jing.ObjectLead, code)
		return readOutcome{}, err
	}},
	{key: "objects.source_options", after: []string{"objects.fields"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		code := v.sample().presetSelectField
		if code == "" {
			return readOutcome{}, nothing("platform.verify.nothing.field", msg.Str("Type", jing.FieldSelect))
		}
		_, err := v.client.SourceOptions(ctx, jing.ObjectLead, code)
		return readOutcome{}, err
	}},
	{key: "objects.custom_options", after: []string{"objects.fields"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		code := v.sample().customSelectField
		if code == "" {
			return readOutcome{}, nothing("platform.verify.nothing.custom_field")
		}
		_, err := v.client.CustomOptions(ctx, jing.ObjectLead, code)
		return readOutcome{}, err
	}},
	{key: "leads.list", read: readLeads},
	{key: "leads.query", after: []string{"leads.list"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		s := v.sample()
		if len(s.leads) == 0 {
			return readOutcome{}, nothing("platform.verify.nothing.leads")
		}
		_, err := v.client.QueryLead(ctx, jing.LeadKey{JingUUID: s.leads[0]})
		return readOutcome{}, err
	}},
	{key: "leads.detail_link", after: []string{"leads.list"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		s := v.sample()
		if len(s.leads) == 0 {
			return readOutcome{}, nothing("platform.verify.nothing.leads")
		}
		_, err := v.client.LeadDetailLink(ctx, s.leads[0])
		return readOutcome{}, err
	}},
	{key: "users.query", after: []string{"leads.list"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		s := v.sample()
		if len(s.identities) == 0 {
			return readOutcome{}, nothing("platform.verify.nothing.identity")
		}
		_, err := v.client.QueryPerson(ctx, s.identityType, s.identities[0])
		return readOutcome{}, err
	}},
	{key: "users.identity_batch", after: []string{"leads.list"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		s := v.sample()
		if len(s.identities) == 0 {
			return readOutcome{}, nothing("platform.verify.nothing.identity")
		}
		_, err := v.client.ResolveIdentities(ctx, s.identityType, s.identities)
		return readOutcome{}, err
	}},
	{key: "privacy.status", after: []string{"leads.list"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		s := v.sample()
		if len(s.identities) == 0 {
			return readOutcome{}, nothing("platform.verify.nothing.identity")
		}
		p, err := v.client.PrivacyStatus(ctx, s.identityType, s.identities[0], jing.PageRequest{Page: 1, PerPage: verifyPerPage})
		return listOutcome(p.Info()), err
	}},
	leadScores("scores.lead_identity", jing.ScoreIdentity),
	leadScores("scores.lead_active", jing.ScoreActivity),
	leadScores("scores.lead_intention", jing.ScoreIntention),
	{key: "crowds.list", read: readCrowds},
	{key: "crowds.detail", after: []string{"crowds.list"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		id := v.sample().groupID
		if id == 0 {
			return readOutcome{}, nothing("platform.verify.nothing.crowds")
		}
		_, err := v.client.CrowdDetail(ctx, id)
		return readOutcome{}, err
	}},
	{key: "crowds.users", after: []string{"crowds.list"}, read: readCrowdUsers},
	userScores("scores.user_identity", jing.ScoreIdentity),
	userScores("scores.user_active", jing.ScoreActivity),
	userScores("scores.user_intention", jing.ScoreIntention),
	{key: "sms.list", read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		p, err := v.client.ListSMS(ctx, jing.PageRequest{Page: 1, PerPage: verifyPerPage})
		return listOutcome(p.Info()), err
	}},
	{key: "sms.send_detail", read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		// The platform lists no SMS tasks: the one read is the console's own newest send.
		task, err := v.smsTask(ctx)
		if err != nil || task == "" {
			return readOutcome{}, nothing("platform.verify.nothing.sms_task")
		}
		d, err := v.client.SMSSendDetail(ctx, task, jing.PageRequest{Page: 1, PerPage: verifyPerPage})
		if jing.IsKind(err, jing.KindBusiness) { // a send of a sandbox reset since, say
			return readOutcome{}, nothing("platform.verify.nothing.sms_task_unknown", msg.Nested("Error", mustMessage(err)))
		}
		return listOutcome(d.Info()), err
	}},
	{key: "edm.mailboxes", read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		_, err := v.client.Mailboxes(ctx)
		return readOutcome{}, err
	}},
	{key: "edm.list", read: readEDMList},
	{key: "edm.detail", after: []string{"edm.list"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		id := v.sample().edmID
		if id == "" {
			return readOutcome{}, nothing("platform.verify.nothing.edm")
		}
		_, err := v.client.EDMDetail(ctx, id)
		return readOutcome{}, err
	}},
	{key: "edm.records", after: []string{"edm.list"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		id := v.sample().edmID
		if id == "" {
			return readOutcome{}, nothing("platform.verify.nothing.edm")
		}
		p, err := v.client.EDMRecords(ctx, id, jing.PageRequest{Page: 1, PerPage: verifyPerPage})
		return listOutcome(p.Info()), err
	}},
}

// ReadOnlyEndpoints are the endpoints a verification reads, in report order.
func ReadOnlyEndpoints() []string {
	out := make([]string, len(readChecks))
	for i, rc := range readChecks {
		out[i] = rc.key
	}
	return out
}

// samples are the ids earlier answers gave, for the reads that need one.
type samples struct {
	businessType      string // a lead business type (the default one)
	optionSetField    string // a lead field of type option_set
	presetSelectField string // a preset select field (its options: objects.source_options)
	customSelectField string // a custom select field (objects.custom_options)
	leads             []string
	identityType      string   // of identities: mobile, or email
	identities        []string // of the leads' persons
	leadPersons       []string // omni_user_uuids of the leads' persons
	groupID           int64    // a crowd, the fullest of the first page
	crowdPersons      []string // omni_user_uuids of its first members
	edmID             string   // an email send, a sent one when there is one
}

func readBusinessTypes(ctx context.Context, v *verifier) (readOutcome, error) {
	bts, err := v.client.BusinessTypes(ctx, jing.ObjectLead)
	if err != nil || len(bts) == 0 {
		return readOutcome{}, err
	}
	pick := bts[0]
	for _, bt := range bts {
		if bt.Default() {
			pick = bt
			break
		}
	}
	v.update(func(s *samples) { s.businessType = pick.JingUUID })
	return readOutcome{}, nil
}

func readFields(ctx context.Context, v *verifier) (readOutcome, error) {
	bt := v.sample().businessType
	if bt == "" {
		return readOutcome{}, nothing("platform.verify.nothing.business_type")
	}
	fields, err := v.client.Fields(ctx, jing.ObjectLead, bt)
	if err != nil {
		return readOutcome{}, err
	}
	v.update(func(s *samples) {
		for _, f := range fields {
			switch {
			case f.Type == jing.FieldOptionSet && s.optionSetField == "":
				s.optionSetField = f.Code
			case f.Type != jing.FieldSelect && f.Type != jing.FieldMultiSelect:
			case f.Custom() && s.customSelectField == "":
				s.customSelectField = f.Code
			// A preset select the API writes has its own options (the
			// derived ones and the pipeline's statuses are read elsewhere).
			case !f.Custom() && f.CanWrite() && f.Code != "lead_status" && f.Code != "business_type" && s.presetSelectField == "":
				s.presetSelectField = f.Code
			}
		}
	})
	return readOutcome{}, nil
}

func readLeads(ctx context.Context, v *verifier) (readOutcome, error) {
	p, err := v.client.ListLeads(ctx, jing.LeadFilter{}, jing.PageRequest{Page: 1, PerPage: verifyPerPage})
	if err != nil {
		return readOutcome{}, err
	}
	v.update(func(s *samples) {
		for _, l := range p.Items {
			s.leads = append(s.leads, l.JingUUID)
			if l.OmniUserUUID != "" {
				s.leadPersons = append(s.leadPersons, l.OmniUserUUID)
			}
		}
		// Identities of one type, mobiles first: what an import resolves.
		for _, typ := range []string{jing.IdentityMobile, jing.IdentityEmail} {
			for _, l := range p.Items {
				value := l.Mobile
				if typ == jing.IdentityEmail {
					value = l.Email
				}
				if value != "" && len(s.identities) < 5 {
					s.identityType, s.identities = typ, append(s.identities, value)
				}
			}
			if len(s.identities) > 0 {
				break
			}
		}
	})
	return listOutcome(p.Info()), nil
}

func readCrowds(ctx context.Context, v *verifier) (readOutcome, error) {
	p, err := v.client.ListCrowds(ctx, jing.CrowdListRequest{PageRequest: jing.PageRequest{Page: 1, PerPage: verifyPerPage}})
	if err != nil || len(p.Items) == 0 {
		return listOutcome(p.Info()), err
	}
	fullest := p.Items[0]
	for _, cr := range p.Items {
		if cr.UserCount > fullest.UserCount {
			fullest = cr
		}
	}
	v.update(func(s *samples) { s.groupID = fullest.GroupID })
	return listOutcome(p.Info()), nil
}

func readCrowdUsers(ctx context.Context, v *verifier) (readOutcome, error) {
	id := v.sample().groupID
	if id == 0 {
		return readOutcome{}, nothing("platform.verify.nothing.crowds")
	}
	p, err := v.client.CrowdUsers(ctx, id, jing.PageRequest{Page: 1, PerPage: verifyPerPage})
	if err != nil {
		return readOutcome{}, err
	}
	v.update(func(s *samples) {
		for _, m := range p.Items {
			s.crowdPersons = append(s.crowdPersons, m.OmniUserUUID)
		}
	})
	return listOutcome(p.Info()), nil
}

func readEDMList(ctx context.Context, v *verifier) (readOutcome, error) {
	p, err := v.client.ListEDM(ctx, jing.EDMListRequest{PageRequest: jing.PageRequest{Page: 1, PerPage: verifyPerPage}})
	if err != nil || len(p.Items) == 0 {
		return listOutcome(p.Info()), err
	}
	pick := p.Items[0]
	for _, e := range p.Items {
		if e.Status == "sent" { // it has records to read
			pick = e
			break
		}
	}
	v.update(func(s *samples) { s.edmID = pick.EDMID })
	return listOutcome(p.Info()), nil
}

func leadScores(key string, kind jing.ScoreKind) readCheck {
	return readCheck{key: key, after: []string{"leads.list"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		ids := v.sample().leads
		if len(ids) == 0 {
			return readOutcome{}, nothing("platform.verify.nothing.leads")
		}
		_, err := v.client.LeadScores(ctx, kind, ids)
		return readOutcome{}, err
	}}
}

// userScores reads persons' scores: a crowd's members, else the leads' persons.
func userScores(key string, kind jing.ScoreKind) readCheck {
	return readCheck{key: key, after: []string{"crowds.users", "leads.list"}, read: func(ctx context.Context, v *verifier) (readOutcome, error) {
		s := v.sample()
		ids := s.crowdPersons
		if len(ids) == 0 {
			ids = s.leadPersons
		}
		if len(ids) == 0 {
			return readOutcome{}, nothing("platform.verify.nothing.persons")
		}
		_, err := v.client.UserScores(ctx, kind, ids)
		return readOutcome{}, err
	}}
}

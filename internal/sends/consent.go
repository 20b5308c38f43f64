package sends

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jobs"
)

// ConsentJobKind is the kind of the privacy-consent check on the jobs runner.
const ConsentJobKind = "sends.consent"

type consentParams struct {
	SendID int64 `json:"send_id"`
}

// RequestConsentCheck queues the privacy-consent check of a draft's
// pasted mobiles: each is looked up (privacy.status, paced), and those
// who have not authorised a required policy version are excluded from
// the send. It returns the job's id.
func (s *Service) RequestConsentCheck(ctx context.Context, id, userID int64) (int64, error) {
	if s.cfg.Runner == nil {
		return 0, errors.New("sends: no jobs runner")
	}
	sd, err := s.cfg.Store.Send(ctx, id)
	if err != nil {
		return 0, err
	}
	if sd.State != db.SendDraft {
		return 0, ErrNotDraft
	}
	if len(sd.Mobiles) == 0 {
		return 0, ErrConsentNeedsList
	}
	if err := s.cfg.Store.SetSendExcluded(ctx, id, nil); err != nil {
		return 0, err
	}
	job, err := s.cfg.Runner.Enqueue(ctx, jobs.Spec{Kind: ConsentJobKind, OwnerID: userID, Total: int64(len(sd.Mobiles)),
		Title: fmt.Sprintf("Consent check of %d mobiles for %s", len(sd.Mobiles), sd.Name), Params: consentParams{id}})
	return job.ID, err
}

// runConsent checks the mobiles one by one; the checkpoint is how many are done.
func (s *Service) runConsent(ctx context.Context, t *jobs.Task) error {
	var p consentParams
	if err := t.Params(&p); err != nil {
		return err
	}
	sd, err := s.cfg.Store.Send(ctx, p.SendID)
	if err != nil {
		return err
	}
	next, _ := strconv.Atoi(t.Checkpoint())
	excluded := append([]string(nil), sd.Excluded...)
	client, _ := s.cfg.Platform.Current()
	for i := next; i < len(sd.Mobiles); i++ {
		ok, err := consents(ctx, client, sd.Mobiles[i])
		if err != nil {
			return err
		}
		if !ok {
			excluded = append(excluded, sd.Mobiles[i])
		}
		t.Did(1)
		if err := s.cfg.Store.SetSendExcluded(ctx, sd.ID, excluded); err != nil {
			return err
		}
		if err := t.Save(strconv.Itoa(i + 1)); err != nil {
			return err
		}
	}
	return nil
}

// consents reports whether the person with this mobile authorised a
// required version of a privacy policy. A person the platform does not
// know has authorised nothing.
func consents(ctx context.Context, client *jing.Client, mobile string) (bool, error) {
	paging := client.NewPaging("privacy.status")
	for page := 1; ; page++ {
		p, err := client.PrivacyStatus(ctx, jing.IdentityMobile, mobile, jing.PageRequest{Page: page, PerPage: jing.DefaultPerPage})
		if je, ok := jing.AsError(err); ok && je.Code == jing.CodeBusinessFailed {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		for _, pol := range p.Items {
			for _, v := range pol.PolicyInfos {
				if v.Required == 1 && v.Authorized() {
					return true, nil
				}
			}
		}
		if more, err := paging.More(page, p.Info()); err != nil || !more {
			return false, err
		}
	}
}

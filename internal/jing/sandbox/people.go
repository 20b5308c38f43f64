package sandbox

import mrand "math/rand/v2"

// peopleState holds persons (users), static crowds and privacy consents.
type peopleState struct{}

func (t *tenant) seedPeople(rng *mrand.Rand, n int) {}

// personContact is what other domains need of a person.
type personContact struct {
	OmniUserUUID string
	Name         string
	Mobile       string
	Email        string
}

// personCount is how many persons the tenant has.
func (p *peopleState) personCount() int { return 0 }

// personAt returns the i-th person (0 ≤ i < personCount), for seeding leads.
func (p *peopleState) personAt(i int) personContact { return personContact{} }

// hasPerson reports whether omni_user_uuid names a person.
func (p *peopleState) hasPerson(uuid string) bool { return false }

// ensurePerson finds the person with this mobile or email, or creates one
// (the platform merges identities rather than duplicating people).
func (p *peopleState) ensurePerson(rng *lockedRand, name, mobile, email string) personContact {
	return personContact{}
}

// crowdMembers lists a static crowd's members; ok is false for no such crowd.
func (p *peopleState) crowdMembers(groupID int64) (members []personContact, ok bool) {
	return nil, false
}

func (s *Server) userHandlers() map[string]handler    { return map[string]handler{} }
func (s *Server) crowdHandlers() map[string]handler   { return map[string]handler{} }
func (s *Server) privacyHandlers() map[string]handler { return map[string]handler{} }

package jing

import "context"

// MemberID is a member's id. The platform writes it as a number in some
// answers (members.list) and as a string in others (a lead's owner); both
// decode, and it is sent as a string.
type MemberID string

func (m *MemberID) UnmarshalJSON(b []byte) error {
	return (*flexString)(m).UnmarshalJSON(b)
}

// Member is an employee of the tenant: a lead's owner or collaborator.
type Member struct {
	ID         MemberID `json:"id"`
	Name       string   `json:"name"`
	Email      string   `json:"email"`
	Department string   `json:"department"`
	Status     string   `json:"status"` // "active" or "inactive"
}

// Active reports whether the member may be given leads.
func (m Member) Active() bool { return m.Status == "active" }

// ListMembers is one page of members (members.list).
func (c *Client) ListMembers(ctx context.Context, p PageRequest) (Page[Member], error) {
	var out Page[Member]
	err := c.Call(ctx, "members.list", p, &out)
	return out, err
}

// AllMembers walks every page of members. A tenant has tens of members,
// so they come back as one slice, ready to cache.
func (c *Client) AllMembers(ctx context.Context) ([]Member, error) {
	var out []Member
	for m, err := range Pages[Member](ctx, c, "members.list", func(p PageRequest) any { return p }) {
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

package scores

import (
	"context"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/leads"
)

// Person is what the console knows of one person (an omni_user_uuid):
// the identities imports resolved to them (and the contact of a lead of
// theirs in the copy), those imports, and the local
// crowds that list them. Their scores come on a Card (FetchOne).
type Person struct {
	UUID       string
	Identities []Identity
	Imports    []db.PersonImport // newest first; values masked for a viewer
	Crowds     []db.PersonCrowd
	Masked     bool   // the identities are masked for the reader
	Lead       string // a lead of theirs in the copy (jing_uuid), if any
}

// Identity is one identity an import resolved to the person, with the
// name the most recent import's name column gave them.
type Identity struct {
	Value, Kind, Name string
}

// Person reads what the console knows of uuid, for the reader.
func (s *Service) Person(ctx context.Context, uuid string, r Reader) (Person, error) {
	p := Person{UUID: uuid, Masked: r.masked()}
	imports, err := s.cfg.Store.PersonImports(ctx, uuid)
	if err != nil {
		return p, err
	}
	known, err := s.cfg.Store.ImportedIdentities(ctx, []string{uuid})
	if err != nil {
		return p, err
	}
	name := known[uuid].Name
	seen := map[[2]string]bool{}
	for _, im := range imports {
		identity := im.Value
		if p.Masked {
			im.Value = leads.Mask(im.Value)
		}
		p.Imports = append(p.Imports, im)
		if identity != "" && !seen[[2]string{im.Kind, identity}] {
			seen[[2]string{im.Kind, identity}] = true
			p.Identities = append(p.Identities, Identity{Value: im.Value, Kind: im.Kind, Name: name})
		}
	}
	// The person behind a lead of the copy: its contact, where no import gave it.
	persons, err := s.cfg.Store.KnownPersons(ctx, []string{uuid})
	if err != nil {
		return p, err
	}
	lead := persons[uuid]
	if name == "" {
		name = lead.Name
	}
	for _, id := range []Identity{{Value: lead.Mobile, Kind: "mobile"}, {Value: lead.Email, Kind: "email"}} {
		if id.Value == "" || seen[[2]string{id.Kind, id.Value}] {
			continue
		}
		seen[[2]string{id.Kind, id.Value}] = true
		if p.Masked {
			id.Value = leads.Mask(id.Value)
		}
		id.Name = name
		p.Identities = append(p.Identities, id)
	}
	p.Lead = lead.Lead
	if p.Crowds, err = s.cfg.Store.PersonCrowds(ctx, uuid); err != nil {
		return p, err
	}
	return p, nil
}

package scores

import (
	"context"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/leads"
)

// Person is what the console knows of one person (an omni_user_uuid):
// the identities imports resolved to them, those imports, and the local
// crowds that list them. Their scores come on a Card (FetchOne).
type Person struct {
	UUID       string
	Identities []Identity
	Imports    []db.PersonImport // newest first; values masked for a viewer
	Crowds     []db.PersonCrowd
	Masked     bool // the identities are masked for the reader
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
	if p.Crowds, err = s.cfg.Store.PersonCrowds(ctx, uuid); err != nil {
		return p, err
	}
	return p, nil
}

package sandbox

import (
	"fmt"
	"slices"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// Permissions are what the platform lets this tenant and this client do.
// The platform answers 40006 (权限不足, seed 003) for an interface the
// tenant's account was not granted, and for a caller whose IP address is
// not on the tenant's allow-list: the sandbox can be set up either way.
type Permissions struct {
	// Denied are the endpoints (catalog keys) the tenant is not granted.
	Denied []string
	// IPNotAllowed refuses every call, token calls included, as a platform
	// whose IP allow-list lacks this server.
	IPNotAllowed bool
}

// Sub-messages of 40006, as seed 003 lists them.
const (
	subNoInterfacePermission = "没有当前接口权限"
	subIPNotAllowed          = "IP无权访问"
)

// Check reports a key that is not in the catalog.
func (p Permissions) Check(cat jing.Catalog) error {
	for _, k := range p.Denied {
		if _, ok := cat.Get(k); !ok {
			return fmt.Errorf("sandbox: cannot deny %q: no such endpoint in the catalog", k)
		}
	}
	return nil
}

// refuse is the 40006 answer for a call to ep, or nil when it is allowed.
func (p Permissions) refuse(ep jing.Endpoint) error {
	switch {
	case p.IPNotAllowed:
		return apiError{jing.CodeNoPermission, subIPNotAllowed}
	case slices.Contains(p.Denied, ep.Key):
		return apiError{jing.CodeNoPermission, subNoInterfacePermission}
	}
	return nil
}

// SetPermissions changes what the tenant may do, from the next call on.
func (s *Server) SetPermissions(p Permissions) error {
	if err := p.Check(s.cfg.Catalog); err != nil {
		return err
	}
	s.mu.Lock()
	s.perms = Permissions{Denied: slices.Clone(p.Denied), IPNotAllowed: p.IPNotAllowed}
	s.mu.Unlock()
	return nil
}

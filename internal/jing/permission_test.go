package jing_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/jing/sandbox"
)

// An interface the tenant was not granted answers 40006: the client calls
// it a permission refusal (not retried, not a token problem) and says
// which interface; the rest keep working.
func TestAnEndpointTheTenantWasNotGrantedIsAPermissionRefusal(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(sc *sandbox.Config, cc *jing.Config) {
		sc.Permissions = sandbox.Permissions{Denied: []string{"members.list"}}
	})
	ctx := context.Background()
	_, err := listMembers(ctx, r.client)
	e, ok := jing.AsError(err)
	if !ok || e.Kind != jing.KindPermission || e.Code != jing.CodeNoPermission || e.Msg != "没有当前接口权限" || e.Endpoint != "members.list" {
		t.Fatalf("a denied endpoint: %#v", err)
	}
	if n := r.calls.count("/v1/member/list"); n != 1 {
		t.Fatalf("members.list called %d times: a permission refusal is not retried", n)
	}
	if r.sb.Issued() != 1 {
		t.Fatalf("%d tokens issued: a permission refusal is no reason to renew", r.sb.Issued())
	}
	if msg := render(t, e, "en"); !strings.Contains(msg, "members.list") || !strings.Contains(msg, "Insufficient permissions") {
		t.Errorf("the message does not name the interface: %s", msg)
	}
	if _, err := r.client.BusinessTypes(ctx, jing.ObjectLead); err != nil {
		t.Fatalf("another endpoint: %v", err)
	}
	if res := r.client.Probe(ctx, "members.list"); res.Status != jing.ProbeNotPermitted {
		t.Fatalf("the probe of a denied endpoint: %s", res.Status)
	}

	// Granted again: the same call works.
	if err := r.sb.SetPermissions(sandbox.Permissions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := listMembers(ctx, r.client); err != nil {
		t.Fatal(err)
	}
	if err := r.sb.SetPermissions(sandbox.Permissions{Denied: []string{"members.lst"}}); err == nil {
		t.Fatal("an unknown endpoint was accepted")
	}
}

// A platform that does not allow this server's IP refuses everything,
// token calls included, with 40006 "IP无权访问".
func TestAnAddressThePlatformDoesNotAllowIsAPermissionRefusal(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(sc *sandbox.Config, cc *jing.Config) {
		sc.Permissions = sandbox.Permissions{IPNotAllowed: true}
	})
	_, err := listMembers(context.Background(), r.client)
	e, ok := jing.AsError(err)
	if !ok || e.Kind != jing.KindPermission || e.Code != jing.CodeNoPermission || e.Msg != "IP无权访问" || e.Case != jing.CasePermissionIP {
		t.Fatalf("a refused address: %#v", err)
	}
	if n := r.calls.count("/v1/oauth2/token"); n != 1 || r.calls.count("/v1/member/list") != 0 {
		t.Fatalf("token %d, members %d: nothing should be retried or called after the refused token",
			n, r.calls.count("/v1/member/list"))
	}
}

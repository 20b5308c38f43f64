package web

import (
	"context"
	"database/sql"
	"encoding/json"
	"testing"

	"github.com/jingdesk/jingdesk/internal/db"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// Codes and ids on the lead page read as names (issue 19): the lifecycle
// stage by the catalogs' name, the account (所属客户) by the account's
// name, or 未知（id） for an account the console has not seen.
func TestLeadPageNamesTheLifecycleStageAndTheAccount(t *testing.T) {
	t.Parallel()
	h, rig, c, bt, pipe := boardAsMarketer(t)
	ctx := context.Background()
	conn, err := sql.Open("sqlite", "file:"+h.store.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Exec(`INSERT INTO accounts(uuid, name) VALUES('acc-known', '星辰汽车集团')`); err != nil {
		t.Fatal(err)
	}
	for account, want := range map[string]string{"acc-known": "星辰汽车集团", "acc-unseen": "未知（acc-unseen）"} {
		l := rig.leadIn(bt, pipe[0].ID)
		var fields map[string]any
		if err := json.Unmarshal(l.Fields, &fields); err != nil {
			t.Fatal(err)
		}
		fields["account_id"], fields["life_status"] = account, "mql"
		l.Fields, _ = json.Marshal(fields)
		l.UpdatedAt++
		if err := h.store.UpsertLeads(ctx, []db.Lead{l}); err != nil {
			t.Fatal(err)
		}
		body := c.get(leadsview.LeadPath(l.UUID)).Body.String()
		if got, _ := fieldValue(t, body, "account_id"); got != want {
			t.Errorf("所属客户 %q, want %q", got, want)
		}
		if got, _ := fieldValue(t, body, "life_status"); got != "市场认可线索（MQL）" {
			t.Errorf("生命周期 %q", got)
		}
	}
}

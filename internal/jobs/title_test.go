package jobs

import (
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
)

// A title is stored as a message and read in the reader's language; the
// English titles older versions stored read the same way.
func TestTitlesReadInTheReadersLanguage(t *testing.T) {
	t.Parallel()
	cat, err := i18n.NewCatalog(time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	cat.OnMissing(func(lang, id string) { t.Errorf("untranslated %s: %s", lang, id) })
	zh, en := cat.Localizer(i18n.Chinese), cat.Localizer(i18n.English)
	for stored, want := range map[string][2]string{
		Title("jobs.title.lead_sync"):                {"同步线索", "Lead sync"},
		"Lead sync":                                  {"同步线索", "Lead sync"},
		"Lead sync (full)":                           {"同步线索（全量）", "Lead sync (full)"},
		"Bulk change of 3 leads: owner":              {"批量修改 3 条线索：更换负责人", "Bulk change of 3 leads: "},
		"Import 名单.csv into 展会名单":                    {"将 名单.csv 导入到 展会名单", "Import 名单.csv into 展会名单"},
		"Refresh the crowd list":                     {"刷新人群列表", "Refresh the crowd list"},
		"Reference data refresh: statuses:lead":      {"刷新参考数据：statuses:lead", "Reference data refresh: statuses:lead"},
		"Fetch scores of crowd 20747":                {"获取人群 20747 的评分", "Fetch the scores of crowd 20747"},
		"Consent check of 8 mobiles for 春季试驾":        {"为“春季试驾”核对 8 个手机号的营销授权", "Consent check of 8 mobiles for “春季试驾”"},
		"Clear the activity scores of 1,200 persons": {"Clear the activity scores of 1,200 persons", "Clear the activity scores of 1,200 persons"},
		"Weekly sync":                                {"Weekly sync", "Weekly sync"},
	} {
		s := StoredTitle(stored)
		if got := zh.Stored(s); got != want[0] {
			t.Errorf("%q in Chinese: %q, want %q", stored, got, want[0])
		}
		if got := en.Stored(s); len(got) < len(want[1]) || got[:len(want[1])] != want[1] {
			t.Errorf("%q in English: %q, want %q…", stored, got, want[1])
		}
	}
	if _, ok := msg.Decode(StoredTitle("Validate a.csv")); !ok {
		t.Error("a legacy validation title is not read as a message")
	}
}

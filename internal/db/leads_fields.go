package db

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
)

// SyncedFields is a lead's whole record as the platform answers
// leads.list (the shape of the sandbox's leads: standard fields, the
// ids of its options and six custom fields; 650-750 bytes). Benchmarks
// fill their copies with it, so rows are as large as synced ones.
func SyncedFields(rn *rand.Rand, l Lead) json.RawMessage {
	id := func() string {
		const letters = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
		b := make([]byte, 22)
		for i := range b {
			b[i] = letters[rn.IntN(len(letters))]
		}
		return string(b)
	}
	rec := map[string]any{
		"business_type": l.BusinessType, "lead_status": l.Status, "life_status": "baby_lead", "jing_uuid": l.UUID,
		"name": l.Name, "mobile": l.Mobile, "email": l.Email, "company_id": l.Company, "title": l.Title,
		"owner": l.Owner, "lead_pool": l.LeadPool, "source_type": l.Source, "collaborators": nonNilStrings(l.Collaborators),
		"created_timestamp": l.CreatedAt, "updated_timestamp": l.UpdatedAt, "omni_user_uuid": id(),
		"country_region": id(), "industry": "企业服务", "official_website": fmt.Sprintf("https://www.company%d.com", rn.IntN(5000)),
		"source_name": "官网-免费试用", "website_name": "企业官网", "website_page_name": "免费试用",
		"c_date_dizivwr8": fmt.Sprintf("2026-%02d-%02d", 1+rn.IntN(12), 1+rn.IntN(28)), "c_input_czi3ce30": fmt.Sprintf("wxid_%08d", rn.IntN(1e8)),
		"c_multi_select_csad0ooo": id() + "," + id(), "c_number_h5iin3ah": rn.IntN(1000), "c_select_ww5adq1n": id(),
	}
	b, err := json.Marshal(rec)
	if err != nil {
		panic(err) // strings and numbers only
	}
	return b
}

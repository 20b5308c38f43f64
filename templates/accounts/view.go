// Package accounts draws the accounts list and an account's page (issue 20).
package accounts

import (
	"net/url"
	"strconv"
)

// ListPath is the accounts list.
const ListPath = "/accounts"

// Path is an account's page.
func Path(uuid string) string { return "/accounts/" + url.PathEscape(uuid) }

// Choice is one option of a filter.
type Choice struct{ Value, Label string }

// List is the accounts list page.
type List struct {
	Query, BusinessType, Owner string
	BusinessTypes, Owners      []Choice
	Rows                       []Row
	Total, Page, Pages         int
}

// Row is one account of the list, names resolved.
type Row struct {
	UUID, Name, BusinessType, Owner string
	Voided, Delivered               bool
	ChangedAt                       int64
	Leads                           int
}

// PageURL is the list's URL on page p with the same filters.
func (v List) PageURL(p int) string {
	q := url.Values{}
	for k, val := range map[string]string{"q": v.Query, "business_type": v.BusinessType, "owner": v.Owner} {
		if val != "" {
			q.Set(k, val)
		}
	}
	if p > 1 {
		q.Set("page", strconv.Itoa(p))
	}
	if len(q) == 0 {
		return ListPath
	}
	return ListPath + "?" + q.Encode()
}

// Page is an account's page.
type Page struct {
	UUID, Name, BusinessType, Owner string
	Voided, Delivered               bool
	ChangedAt, CreatedAt            int64
	Fields                          []Field
	Leads                           []Lead
	LeadCount                       int
}

// Field is one field of the account, values as names.
type Field struct {
	Code, Label string
	Values      []string
	Masked      bool
}

// Lead is one lead of the account.
type Lead struct {
	Path, Name, Status, Owner string
	Voided                    bool
	UpdatedAt                 int64
}

func sourceOf(delivered bool) string {
	if delivered {
		return "webhook"
	}
	return "leads"
}

func joinValues(v []string) string {
	out := ""
	for i, s := range v {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}

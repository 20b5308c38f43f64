package web

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/accounts"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/refdata"
	accountsview "github.com/jingdesk/jingdesk/templates/accounts"
	"github.com/jingdesk/jingdesk/templates/forms"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// The accounts area (客户, issue 20): the accounts list and an account's
// page, from what internal/accounts knows (webhooks, and the ids leads
// carry); names resolved through the reference data.
type accountsArea struct {
	*kit
	accounts accountReader
	ref      referenceSource
}

// accountReader is what the pages read of the accounts (internal/accounts).
type accountReader interface {
	List(ctx context.Context, f db.AccountFilter, page int) ([]db.AccountRow, int, error)
	Account(ctx context.Context, uuid string) (accounts.Detail, error)
}

const accountObject = "account"

// showAccounts is the list: ?q= (name), business_type, owner, page.
func (a *accountsArea) showAccounts(c echo.Context) error {
	f := db.AccountFilter{Query: strings.TrimSpace(c.QueryParam("q")), BusinessType: c.QueryParam("business_type"),
		Owner: c.QueryParam("owner")}
	if len(f.Query) > 100 || len(f.BusinessType) > boardIDMax || len(f.Owner) > boardIDMax {
		return echo.NewHTTPError(http.StatusBadRequest, errBadRequest)
	}
	page, _ := strconv.Atoi(c.QueryParam("page"))
	page = max(page, 1)
	rows, total, err := a.accounts.List(c.Request().Context(), f, page)
	if err != nil {
		return err
	}
	lang, r := state(c).loc.Lang, a.ref.Resolver()
	v := accountsview.List{Query: f.Query, BusinessType: f.BusinessType, Owner: f.Owner, Total: total, Page: page,
		Pages: (total + accounts.PageSize - 1) / accounts.PageSize}
	for _, bt := range r.BusinessTypes(accountObject) {
		v.BusinessTypes = append(v.BusinessTypes, accountsview.Choice{Value: bt.ID, Label: bt.DisplayName(lang)})
	}
	for _, m := range r.Members(false) {
		v.Owners = append(v.Owners, accountsview.Choice{Value: m.ID, Label: m.DisplayName(lang)})
	}
	for _, row := range rows {
		out := accountsview.Row{UUID: row.UUID, Name: accountName(c, row.UUID, row.Name), Voided: row.Voided,
			Delivered: row.Delivered, ChangedAt: row.ChangedAt, Leads: row.Leads}
		if row.BusinessType != "" {
			out.BusinessType = r.BusinessType(lang, accountObject, row.BusinessType)
		}
		if row.Owner != "" {
			out.Owner = r.Member(lang, row.Owner)
		}
		v.Rows = append(v.Rows, out)
	}
	return a.render(c, http.StatusOK, View{Title: t(c, "accounts.title"), Section: "accounts", Body: accountsview.ListPage(v)})
}

// accountName is an account's name, or "未知（id）" when the console knows
// only its id (or the platform gave it none).
func accountName(c echo.Context, uuid, name string) string {
	if name != "" {
		return name
	}
	return t(c, "accounts.unknown", "ID", uuid)
}

// showAccount is an account's page.
func (a *accountsArea) showAccount(c echo.Context) error {
	uuid, err := pathUUID(c)
	if err != nil {
		return err
	}
	d, err := a.accounts.Account(c.Request().Context(), uuid)
	if err != nil {
		return err
	}
	lang, r := state(c).loc.Lang, a.ref.Resolver()
	acc := d.Account
	v := accountsview.Page{UUID: acc.UUID, Name: accountName(c, acc.UUID, acc.Name), Voided: acc.Voided,
		Delivered: d.Source == accounts.SourceWebhook, ChangedAt: acc.ChangedAt, CreatedAt: acc.CreatedAt, LeadCount: d.LeadCount}
	if acc.BusinessType != "" {
		v.BusinessType = r.BusinessType(lang, accountObject, acc.BusinessType)
	}
	if acc.Owner != "" {
		v.Owner = r.Member(lang, acc.Owner)
	}
	if v.Delivered {
		v.Fields = accountFieldRows(r, lang, acc, !mayMove(currentUser(c)))
	}
	for _, l := range d.Leads {
		row := accountsview.Lead{Path: leadsview.LeadPath(l.UUID), Name: l.Name, Voided: l.Voided, UpdatedAt: l.UpdatedAt}
		if row.Name == "" {
			row.Name = l.UUID
		}
		row.Status, _ = r.Status(lang, l.BusinessType, l.Status)
		if l.Owner != "" {
			row.Owner = r.Member(lang, l.Owner)
		}
		v.Leads = append(v.Leads, row)
	}
	return a.render(c, http.StatusOK, View{Title: v.Name, Section: "accounts", Body: accountsview.AccountPage(v)})
}

// accountFieldRows lists the fields of the account's business type with
// their values as names (and the fields a webhook delivered that the
// reference data does not list, by code); mobile and email masked when
// mask is set (viewers).
func accountFieldRows(r *refdata.Resolver, lang string, acc db.Account, mask bool) []accountsview.Field {
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(acc.Fields, &raw)
	var out []accountsview.Field
	listed := map[string]bool{}
	for _, it := range r.Fields(accountObject, acc.BusinessType) {
		listed[it.ID] = true
		f := accountsview.Field{Code: it.ID, Label: it.DisplayName(lang)}
		for _, v := range rawValues(raw[it.ID], it.Type == forms.TypeMultiSelect) {
			f.Values = append(f.Values, accountValueName(r, lang, it, v))
		}
		if mask && (it.Type == forms.TypeMobile || it.Type == forms.TypeEmail || it.ID == "mobile" || it.ID == "email") {
			for i, v := range f.Values {
				f.Values[i] = leads.Mask(v)
			}
			f.Masked = len(f.Values) > 0
		}
		out = append(out, f)
	}
	extra := make([]string, 0, len(raw))
	for code := range raw {
		if !listed[code] {
			extra = append(extra, code)
		}
	}
	slices.Sort(extra)
	for _, code := range extra {
		f := accountsview.Field{Code: code, Label: code, Values: rawValues(raw[code], false)}
		if mask && (code == "mobile" || code == "email") {
			for i, v := range f.Values {
				f.Values[i] = leads.Mask(v)
			}
		}
		out = append(out, f)
	}
	return out
}

// accountValueName is one value of an account's field as the page shows it.
func accountValueName(r *refdata.Resolver, lang string, it refdata.Item, v string) string {
	switch {
	case it.ID == "owner":
		return r.Member(lang, v)
	case it.ID == "business_type":
		return r.BusinessType(lang, accountObject, v)
	case it.Type == forms.TypeSelect || it.Type == forms.TypeMultiSelect:
		return r.Option(lang, accountObject, it.ID, v)
	case it.Type == forms.TypeOptionSet:
		return r.OptionPath(lang, accountObject, it.ID, v)
	}
	return v
}

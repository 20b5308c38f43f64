package db

import (
	"context"
	"fmt"
)

// What the console knows locally of the platform's persons (by
// omni_user_uuid), which the platform's crowd lists give bare: the
// person behind a lead of the copy (its fields' omni_user_uuid, as
// leads.list answers it) and the identity an import resolved to them.

// leadPerson is the person behind a lead of the copy.
const leadPerson = `json_extract(l.fields, '$.omni_user_uuid')`

// KnownPerson is what the console knows of one person.
type KnownPerson struct {
	UUID   string
	Name   string
	Mobile string
	Email  string
	Lead   string // a lead of theirs (jing_uuid), if the copy has one
}

// KnownPersons looks persons up: a lead's contact first (the newest lead
// of theirs), an import's identity and name where the copy has none.
func (s *Store) KnownPersons(ctx context.Context, uuids []string) (map[string]KnownPerson, error) {
	out := map[string]KnownPerson{}
	if len(uuids) == 0 {
		return out, nil
	}
	args := make([]any, len(uuids))
	for i, u := range uuids {
		args[i] = u
	}
	// No ORDER BY: sorting by updated_at would walk that index and reach
	// every row through it (three times slower); the newest lead wins below.
	rows, err := s.read.QueryContext(ctx, `SELECT `+leadPerson+`, l.uuid, l.name, l.mobile, l.email, l.updated_at FROM leads l
		WHERE `+leadPerson+` IN (`+placeholders(len(uuids))+`) AND l.voided = 0`, args...)
	if err != nil {
		return nil, fmt.Errorf("db: persons of leads: %w", err)
	}
	defer rows.Close()
	newest := map[string]int64{}
	for rows.Next() {
		var p KnownPerson
		var updated int64
		if err := rows.Scan(&p.UUID, &p.Lead, &p.Name, &p.Mobile, &p.Email, &updated); err != nil {
			return nil, err
		}
		if at, seen := newest[p.UUID]; !seen || updated > at {
			out[p.UUID], newest[p.UUID] = p, updated // a person's newest lead speaks for them
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	imported, err := s.ImportedIdentities(ctx, uuids)
	if err != nil {
		return nil, err
	}
	for uuid, r := range imported {
		p := out[uuid]
		p.UUID = uuid
		if p.Name == "" {
			p.Name = r.Name
		}
		switch {
		case r.Reason == "mobile" && p.Mobile == "":
			p.Mobile = r.Value
		case r.Reason == "email" && p.Email == "":
			p.Email = r.Value
		}
		out[uuid] = p
	}
	return out, nil
}

// CrowdKnown is what the console knows of a crowd's members as last
// listed here (crowd_members): how many, how many it knows (a lead of the
// copy or an import row), and how many of those have an email address.
type CrowdKnown struct {
	ListedAt  int64 // when the members were listed (0: never; the counts are then 0)
	Members   int64
	Known     int64
	WithEmail int64
}

// CrowdKnownMembers counts what the console knows of a crowd's members.
func (s *Store) CrowdKnownMembers(ctx context.Context, groupID int64) (CrowdKnown, error) {
	var k CrowdKnown
	at, err := s.CrowdMembersFetchedAt(ctx, groupID)
	if err != nil || at == 0 {
		return k, err
	}
	k.ListedAt = at
	err = s.read.QueryRowContext(ctx, `WITH m AS (SELECT uuid FROM crowd_members WHERE group_id = ?1),
		lp AS (SELECT `+leadPerson+` AS uuid, MAX(l.email != '') AS has_email FROM leads l
			WHERE `+leadPerson+` IN (SELECT uuid FROM m) AND l.voided = 0 GROUP BY 1),
		ip AS (SELECT r.uuid, MAX((i.identity_type = 'email' AND r.value != '')
				OR COALESCE(json_extract(NULLIF(r.extra, ''), '$.email'), '') != '') AS has_email FROM import_rows r
			JOIN imports i ON i.id = r.import_id WHERE r.uuid IN (SELECT uuid FROM m) GROUP BY r.uuid)
		SELECT COUNT(*), COALESCE(SUM(lp.uuid IS NOT NULL OR ip.uuid IS NOT NULL), 0),
			COALESCE(SUM(COALESCE(lp.has_email, 0) OR COALESCE(ip.has_email, 0)), 0)
		FROM m LEFT JOIN lp ON lp.uuid = m.uuid LEFT JOIN ip ON ip.uuid = m.uuid`, groupID).Scan(&k.Members, &k.Known, &k.WithEmail)
	if err != nil {
		return k, fmt.Errorf("db: known members of crowd %d: %w", groupID, err)
	}
	return k, nil
}

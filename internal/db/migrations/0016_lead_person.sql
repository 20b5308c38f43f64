-- The person behind a lead (the platform's omni_user_uuid, kept in the
-- lead's fields as leads.list answers it), for naming a crowd's members
-- and checking an email send's audience through the local copy
-- (db.KnownPersons, people.go). Without it each lookup read every lead:
-- a page of 50 members took about 1 s at 100,000 leads.
CREATE INDEX leads_person ON leads(json_extract(fields, '$.omni_user_uuid'));

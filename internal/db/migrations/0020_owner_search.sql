-- Speed as a user meets it (issue 18): a search among an owner's leads.
--
-- The owner's index (0015) now also holds the columns a search reads
-- (name, mobile, email, company, title), after what it held: the board
-- checks a search against an owner's leads, counts them per status and
-- walks each column for its cards in the index alone, reading a lead's
-- row only for a card it shows. Without them every lead of the owner was
-- read, twice (the counts, then the columns): 1,800 rows of 700 bytes
-- each, scattered over the file, 15-30 ms of a 17 ms page at 100,000
-- leads. The rest of the index is as before (the scores page joins an
-- owner's leads to their cards by the uuid).
DROP INDEX leads_owner;
CREATE INDEX leads_owner ON leads(owner, voided, updated_at, business_type, status, created_at, uuid,
	name, mobile, email, company, title);

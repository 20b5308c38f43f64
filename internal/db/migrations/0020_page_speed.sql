-- Speed as a user meets it (issue 18): a search among an owner's leads,
-- and the scores of a status.
--
-- The owner's index (0015) now also holds the columns a search reads
-- (name, mobile, email, company, title), after what it held: the board
-- checks a search against an owner's leads, counts them per status and
-- orders each column in the index alone, reading a lead's row only for a
-- card it shows. Without them every lead of the owner was read, twice
-- (the counts, then the columns): 1,800 rows of 700 bytes each,
-- scattered over the file, most of a 16 ms page at 100,000 leads. The
-- rest of the index is as before (the scores page joins an owner's leads
-- to their cards by the uuid).
DROP INDEX leads_owner;
CREATE INDEX leads_owner ON leads(owner, voided, updated_at, business_type, status, created_at, uuid,
	name, mobile, email, company, title);

-- The highest and lowest scores of a status's leads, walked from either
-- end of the status's own range (TopScored names them: INDEXED BY). The
-- score indexes of 0009 hold the subject and the score only: a status
-- holding one lead in twenty read twenty cards per card shown, or all its
-- cards sorted, 25-47 ms of a scores page at 100,000 leads.
CREATE INDEX score_cards_identity_status ON score_cards(subject, voided, business_type, status, identity_score);
CREATE INDEX score_cards_active_status ON score_cards(subject, voided, business_type, status, active_score);
CREATE INDEX intention_status ON intention_scores(subject, product, voided, business_type, status, score);

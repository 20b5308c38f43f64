-- How fresh a view's scores are, from an index alone: per kind, the fetch
-- times of the cards under the views' filters (leads not voided, by
-- business type and status).
CREATE INDEX score_cards_identity_at ON score_cards(subject, voided, business_type, status, identity_at);
CREATE INDEX score_cards_active_at ON score_cards(subject, voided, business_type, status, active_at);
CREATE INDEX score_cards_intention_at ON score_cards(subject, voided, business_type, status, intention_at);

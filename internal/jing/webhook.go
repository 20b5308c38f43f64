package jing

// WebhookEvent is what the platform POSTs when a lead or an account changes
// (../shared/jing-api/webhooks.md). The sandbox builds these; the console's
// receiver decodes them.
type WebhookEvent struct {
	MID           string           `json:"mid"`
	EventCategory string           `json:"event_category"`
	EventType     string           `json:"event_type"`
	ActionKeyword string           `json:"action_keyword"`
	CreateTime    int64            `json:"create_time"`
	ExtraData     WebhookExtraData `json:"extra_data"`
}

// WebhookExtraData is the changed object. MappingData holds the changed
// fields as arrays of raw values ([value] on create, [before, after] on
// update); MappingDataText the same fields' labels.
type WebhookExtraData struct {
	ObjectName       string         `json:"object_name"`
	EntityID         string         `json:"entity_id"`
	ObjectID         string         `json:"object_id"`
	BusinessType     string         `json:"business_type"`
	BusinessTypeName string         `json:"business_type_name"`
	OperatorType     int            `json:"operator_type"`
	OperatorID       int64          `json:"operator_id"`
	Owner            string         `json:"owner,omitempty"`
	LifeStatus       string         `json:"life_status,omitempty"`
	LeadOmniUserUUID string         `json:"lead_omni_user_uuid,omitempty"`
	OmniUserUUID     string         `json:"omni_user_uuid,omitempty"`
	Notes            string         `json:"notes"`
	IsFollowUp       int            `json:"is_follow_up"`
	CreatedTimestamp string         `json:"created_timestamp"`
	TimelineData     string         `json:"timeline_data,omitempty"`
	MappingData      map[string]any `json:"mapping_data"`
	MappingDataText  map[string]any `json:"mapping_data_text"`
}

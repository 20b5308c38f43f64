-- One object's history (a send's timeline) without scanning the log.
CREATE INDEX audit_log_object ON audit_log(object, id);

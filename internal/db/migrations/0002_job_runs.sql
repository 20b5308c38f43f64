-- Where the current run of a job began, so the Jobs page can show a rate and
-- time left for this run alone: a job resumed after a pause or a restart
-- would otherwise average in the hours it sat waiting.
ALTER TABLE jobs ADD COLUMN run_started_at INTEGER NOT NULL DEFAULT 0;
-- done + failed when the current run began.
ALTER TABLE jobs ADD COLUMN run_base INTEGER NOT NULL DEFAULT 0;
-- Finished jobs are listed newest first.
CREATE INDEX jobs_finished ON jobs(finished_at DESC) WHERE finished_at IS NOT NULL;

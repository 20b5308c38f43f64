-- Imports: every row accounted for, whatever the file (issue 15).
--
-- import_rows.line is the row of the spreadsheet a user sees when they open
-- the file (a CSV record counts once however many lines its cells run over;
-- blank lines are rows; header = its row), not a line of text.

-- The header row the user chose or detection proposed: the rows above it
-- are title rows (a title, an export banner), neither data nor invalid.
ALTER TABLE imports ADD COLUMN header_row INTEGER NOT NULL DEFAULT 1;

-- What detection found and the first rows as read (JSON), written when the
-- file is read for a step, so viewing the import never opens the file.
ALTER TABLE imports ADD COLUMN preview TEXT NOT NULL DEFAULT '';

-- Validation's account of the file, besides rows_total (data rows under
-- the header) and the rest: the title rows, a CSV file's physical lines,
-- and the rows whose cells run over several lines (their number, and the
-- first of them as a JSON list), which is why rows and lines can differ.
ALTER TABLE imports ADD COLUMN rows_title INTEGER NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN lines_total INTEGER NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN rows_multiline INTEGER NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN multiline_rows TEXT NOT NULL DEFAULT '[]';

-- The invalid rows by reason (JSON: reason → count), counted once when
-- validation ends: counting them on every view of a 1,000,000-row import
-- took 150 ms (each invalid row looked up in the table).
ALTER TABLE imports ADD COLUMN invalid_reasons TEXT NOT NULL DEFAULT '';

-- A validation running as a job (large files), and why the last one
-- failed: a file error code and row (JSON), '' when it did not.
ALTER TABLE imports ADD COLUMN validate_job_id INTEGER REFERENCES jobs(id);
ALTER TABLE imports ADD COLUMN validate_error TEXT NOT NULL DEFAULT '';

-- The import job's phases (look up, create, add to crowd): when each began
-- and ended, and where its current run began (JSON), for rates per phase.
ALTER TABLE imports ADD COLUMN phases TEXT NOT NULL DEFAULT '';

-- The row's other mapped values (JSON: role → value; a secondary identity
-- only when valid), written to the person when the import creates one.
ALTER TABLE import_rows ADD COLUMN extra TEXT NOT NULL DEFAULT '';

-- The progress of an import by phase counts its rows by state, by whether
-- the import created the person and by whether the crowd refused it; this
-- index answers that from the index alone (on a 1,000,000-row import, 0.66 s
-- a count without it, read every second while the import runs).
CREATE INDEX import_rows_phase ON import_rows(import_id, state, created, reason);

-- Business hours of the whole workspace (营业时间) with holidays, the off-hours reply, and the
-- leave-a-message form's phone number.

-- One row per workspace that saved its hours; none: always open.
CREATE TABLE workspace_hours (
    workspace_id    BLOB PRIMARY KEY REFERENCES workspaces(id),
    enabled         INTEGER NOT NULL,
    -- JSON parley_domain::BusinessCalendar (time zone, weekly ranges, special days).
    calendar        TEXT NOT NULL,
    off_hours_text  TEXT,
    updated_at      INTEGER NOT NULL
);

-- Until when the visitor has been told the team is away (the next opening when it was sent):
-- the off-hours reply goes out once per conversation per closed period.
ALTER TABLE conversations ADD COLUMN off_hours_until INTEGER;

ALTER TABLE visitors ADD COLUMN phone TEXT;

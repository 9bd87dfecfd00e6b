-- Weekly working hours of a group (JSON, see parley_domain::WeeklyHours); NULL = always open.
ALTER TABLE agent_groups ADD COLUMN hours TEXT;

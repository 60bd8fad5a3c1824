-- Files agents created, modified, deleted or renamed, with their diffs and
-- the tool call that changed them. diff_cut_from: the whole diff's length
-- when the recorded one was cut (domain/file_changes.py), else NULL.
CREATE TABLE IF NOT EXISTS file_changes (
    notification_id bigint PRIMARY KEY,
    session_id uuid NOT NULL,
    agent_id uuid NOT NULL,
    agent_name text NOT NULL,
    task text,
    at timestamptz NOT NULL,
    path text NOT NULL,
    change text NOT NULL,
    diff text NOT NULL,
    tool text,
    tool_use_id text,
    previous_path text,
    diff_cut_from bigint
);
CREATE INDEX IF NOT EXISTS file_changes_agent ON file_changes (agent_id, notification_id);
-- Tables made before file changes named their tool call (NULL in the rows
-- there are; a rebuild fills them from the events).
ALTER TABLE file_changes ADD COLUMN IF NOT EXISTS tool text;
ALTER TABLE file_changes ADD COLUMN IF NOT EXISTS tool_use_id text;
ALTER TABLE file_changes ADD COLUMN IF NOT EXISTS previous_path text;
ALTER TABLE file_changes ADD COLUMN IF NOT EXISTS diff_cut_from bigint;

-- Issue 11, the last open item: creating a task no longer serialises on its board.
--
-- Until now every create held its board's lock (lock_board) from reading the column's last
-- position until commit, so that positions stay 0..n-1: one user's creates ran one at a time
-- (bench/RESULTS.md, task_create 0.52x the peer). Now a task can be *appended* without any
-- lock: it gets a rank from a sequence (creation order = append order) and no position yet.
-- The column's order is: the numbered tasks by position (0..k-1, dense, maintained under the
-- board lock exactly as before), then the appended ones by rank. The API's position of an
-- appended task is computed when it is read: k + the appended tasks ranked before it
-- (task_tail_position), so what a client sees stays 0..n-1 with no gaps or duplicates.
-- Whoever takes the board lock (a move, a delete, a status change, a batch, a create into a
-- column with a WIP limit) first numbers the appended tasks it sees (k, k+1, ... in rank
-- order, db/tasks.cpp kSettle), so the order a client saw is kept, and creates number them
-- too now and then (with a try-lock, never waiting) so that the appended tail stays short.
CREATE SEQUENCE tasks_rank_seq AS bigint;

ALTER TABLE tasks ADD COLUMN rank bigint;
-- The existing tasks are all numbered; their rank keeps their board order anyway.
UPDATE tasks SET rank = nextval('tasks_rank_seq')
    FROM (SELECT id, row_number() OVER (ORDER BY board_id, status, position) AS o FROM tasks) s
    WHERE tasks.id = s.id;
ALTER TABLE tasks ALTER COLUMN rank SET DEFAULT nextval('tasks_rank_seq'),
                  ALTER COLUMN rank SET NOT NULL,
                  -- NULL: appended, not numbered yet (the deferred unique key ignores NULLs).
                  ALTER COLUMN position DROP NOT NULL;
ALTER SEQUENCE tasks_rank_seq OWNED BY tasks.rank;
DO $$
BEGIN
    -- The app role inserts tasks, so it draws ranks.
    EXECUTE format('GRANT USAGE ON SEQUENCE tasks_rank_seq TO %I',
                   current_setting('rostrum.app_role'));
END $$;

-- The appended tail of a column, in rank order: read for every appended task's position and
-- by the numbering. Partial, so it holds only the (short) tails.
CREATE INDEX tasks_tail_idx ON tasks (board_id, status, rank) WHERE position IS NULL;

-- The API's position of an appended task: the column's numbered tasks (its highest position
-- + 1, read from the end of the (board_id, status, position) index) plus the appended tasks
-- ranked before it. A numbered task's position is its column value (callers coalesce).
CREATE FUNCTION task_tail_position(b uuid, s text, r bigint) RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN coalesce((SELECT t.position + 1 FROM tasks t
                     WHERE t.board_id = b AND t.status = s AND t.position IS NOT NULL
                     ORDER BY t.position DESC LIMIT 1), 0)
           + (SELECT count(*) FROM tasks t
              WHERE t.board_id = b AND t.status = s AND t.position IS NULL AND t.rank < r);

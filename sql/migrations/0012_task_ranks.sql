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

-- The activity chain of a personal task's entries. Each chain's head row (activity_chains) is
-- locked by activity_link from an entry's insert until commit, so that a chain's entries follow
-- commit order: a user's personal entries all went into that user's chain, so one user's
-- creates (every create writes its 'created' entry) queued on that row however the board was
-- locked (pgbench, 32 clients, one user: 50-120 creates/s with the actor's chain, 800/s with a
-- chain per entry; bench/RESULTS.md). A personal task has no project to chain by; it is its own
-- little project now: its entries (its creator's and the system's filling its prompts) form
-- the task's chain, keyed by the task's id. Project entries keep their project's chain. The
-- log is as tamper-evident as before (every entry hashed with its predecessor's hash; every
-- chain's head kept where the app role cannot reach it), with more, shorter chains.
-- Entries linked before this migration stay in the chain they were linked into:
-- activity_legacy_seq() is the last of them, and GET /activity/verify expects their old key.
DO $$
BEGIN
    EXECUTE format('CREATE FUNCTION activity_legacy_seq() RETURNS bigint '
                   'LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN %s',
                   (SELECT coalesce(max(seq), 0) FROM activity));
END $$;

-- The chain an entry belongs in (what activity_link links it into, what verify checks).
CREATE FUNCTION activity_chain_key(seq bigint, project_id uuid, actor_id uuid, entity_id uuid)
    RETURNS uuid
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN seq <= activity_legacy_seq()
                THEN coalesce(project_id, actor_id, '00000000-0000-0000-0000-000000000000')
                ELSE coalesce(project_id, entity_id) END;

-- 0005's activity_link with the new key (the rest unchanged).
CREATE OR REPLACE FUNCTION activity_link() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    head activity_chains%ROWTYPE;
BEGIN
    NEW.chain := activity_chain_key(NEW.seq, NEW.project_id, NEW.actor_id, NEW.entity_id);
    INSERT INTO activity_chains (chain, last_seq, last_hash) VALUES (NEW.chain, 0, '\x')
        ON CONFLICT (chain) DO NOTHING;
    SELECT * INTO head FROM activity_chains WHERE chain = NEW.chain FOR UPDATE;
    NEW.chain_seq := head.last_seq + 1;
    NEW.prev_hash := head.last_hash;
    NEW.hash := activity_hash(NEW);
    UPDATE activity_chains SET last_seq = NEW.chain_seq, last_hash = NEW.hash
        WHERE chain = NEW.chain;
    RETURN NEW;
END $$;

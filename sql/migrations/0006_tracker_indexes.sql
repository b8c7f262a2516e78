-- Issue 11: the indexes the activity log's reads and the tracker's reports rely on (see
-- bench/tracker_reports.py for the plans). Each report reads one project's rows only, and each
-- of these lets it do so from the index alone (an index-only scan) instead of the heap.

-- progress and workload: a project's tasks by status, priority, due date and assignee.
CREATE INDEX tasks_project_stats_idx ON tasks (project_id)
    INCLUDE (status, priority, due_date, assignee_id)
    WHERE project_id IS NOT NULL;

-- flow: a project's transitions in time order, with what each one moved from and to.
CREATE INDEX task_status_history_flow_idx ON task_status_history (project_id, at)
    INCLUDE (from_status, to_status);

-- team-performance: the transitions into done within a window, and a task's first move into
-- in_progress (the start of its cycle time).
CREATE INDEX task_status_history_done_idx ON task_status_history (project_id, at)
    INCLUDE (task_id)
    WHERE to_status = 'done';
CREATE INDEX task_status_history_started_idx ON task_status_history (task_id, at)
    WHERE to_status = 'in_progress';

-- The flow index holds everything 0005's (project_id, at) index did, and more: one index to
-- keep up on every status change instead of two.
DROP INDEX task_status_history_project_idx;

-- GET /activity/verify compares each chain's head with its last entry, but the app role has no
-- right on activity_chains at all (0005: so that it cannot move a head to hide a deletion).
-- This gives it the heads to read and nothing else: SECURITY DEFINER, owned by the owner role.
CREATE FUNCTION activity_chain_heads() RETURNS TABLE (chain uuid, last_seq bigint, last_hash bytea)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT h.chain, h.last_seq, h.last_hash FROM activity_chains h $$;
-- Functions are executable by PUBLIC by default: this one only by the app role.
REVOKE EXECUTE ON FUNCTION activity_chain_heads() FROM PUBLIC;
DO $$
BEGIN
    EXECUTE format('GRANT EXECUTE ON FUNCTION activity_chain_heads() TO %I',
                   current_setting('rostrum.app_role'));
END $$;

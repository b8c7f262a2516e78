-- Issue 11: the team tracker. Projects and their members, tasks on a Kanban board (a project's,
-- or a user's personal one), the status history the reports read, and the append-only,
-- hash-chained activity log. Who may see and change what is defined once, here, by
-- project_role() and task_visible(): every tracker query calls them with the caller's id.

CREATE TABLE projects (
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    owner_id    uuid        NOT NULL,
    name        text        NOT NULL,
    description text,
    status      text        NOT NULL DEFAULT 'active',
    -- {status: n}: at most n tasks in that column (a move past it answers 409 unless forced).
    wip_limits  jsonb       NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT projects_pkey PRIMARY KEY (id),
    -- An owner's account going takes its projects with it, as it takes its sessions.
    CONSTRAINT projects_owner_fk FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT projects_name_check CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT projects_status_check CHECK (status IN ('active', 'completed', 'archived')),
    CONSTRAINT projects_wip_check CHECK (jsonb_typeof(wip_limits) = 'object')
);
-- GET /projects: newest first, keyset-paged.
CREATE INDEX projects_created_idx ON projects (created_at DESC, id DESC);
CREATE INDEX projects_owner_idx ON projects (owner_id);

-- The members besides the owner (the owner is projects.owner_id, never a row here).
CREATE TABLE project_members (
    project_id uuid        NOT NULL,
    user_id    uuid        NOT NULL,
    added_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT project_members_pkey PRIMARY KEY (project_id, user_id),
    CONSTRAINT project_members_project_fk FOREIGN KEY (project_id) REFERENCES projects (id)
        ON DELETE CASCADE,
    CONSTRAINT project_members_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
        ON DELETE CASCADE
);
-- "The projects I am a member of".
CREATE INDEX project_members_user_idx ON project_members (user_id, project_id);

CREATE TABLE tasks (
    id                uuid        NOT NULL DEFAULT gen_random_uuid(),
    project_id        uuid,            -- NULL: a personal task, seen by its creator only
    -- NULL once the creator's account is deleted (its personal tasks go with it: see the
    -- users trigger below; a project's tasks stay with the project).
    created_by        uuid,
    -- The board the task is on: its project's, or its creator's personal board. Positions are
    -- counted per (board, column).
    board_id          uuid        GENERATED ALWAYS AS (coalesce(project_id, created_by)) STORED,
    title             text        NOT NULL,
    description       text,
    status            text        NOT NULL DEFAULT 'todo',
    priority          text        NOT NULL DEFAULT 'medium',
    position          integer     NOT NULL,
    assignee_id       uuid,
    due_date          date,
    labels            text[]      NOT NULL DEFAULT '{}',
    prompts           text[]      NOT NULL DEFAULT '{}',
    source_session_id uuid,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    completed_at      timestamptz,     -- set by tasks_stamp_completion when it reaches done
    CONSTRAINT tasks_pkey PRIMARY KEY (id),
    CONSTRAINT tasks_project_fk FOREIGN KEY (project_id) REFERENCES projects (id)
        ON DELETE CASCADE,
    CONSTRAINT tasks_creator_fk FOREIGN KEY (created_by) REFERENCES users (id)
        ON DELETE SET NULL,
    CONSTRAINT tasks_assignee_fk FOREIGN KEY (assignee_id) REFERENCES users (id)
        ON DELETE SET NULL,
    -- Deleting the memo's session clears the link; deleting the task leaves the session.
    CONSTRAINT tasks_session_fk FOREIGN KEY (source_session_id) REFERENCES sessions (id)
        ON DELETE SET NULL,
    CONSTRAINT tasks_title_check CHECK (char_length(title) BETWEEN 1 AND 500),
    CONSTRAINT tasks_status_check CHECK (status IN ('todo', 'in_progress', 'review', 'done')),
    CONSTRAINT tasks_priority_check CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    CONSTRAINT tasks_position_check CHECK (position >= 0),
    -- No two tasks share a place in a column. Deferred to commit, so that a move may shift a
    -- column's tasks in any order within its transaction; the index is also the board's read
    -- path (board, column, position order).
    CONSTRAINT tasks_position_key UNIQUE (board_id, status, position) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX tasks_created_by_idx ON tasks (created_by, created_at DESC, id DESC);
CREATE INDEX tasks_assignee_idx ON tasks (assignee_id) WHERE assignee_id IS NOT NULL;
CREATE INDEX tasks_session_idx ON tasks (source_session_id) WHERE source_session_id IS NOT NULL;
CREATE INDEX tasks_project_created_idx ON tasks (project_id, created_at DESC, id DESC)
    WHERE project_id IS NOT NULL;

-- completed_at follows the status: stamped when a task reaches done, cleared when it leaves.
CREATE FUNCTION tasks_stamp_completion() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'done' THEN
        IF TG_OP = 'INSERT' OR OLD.status <> 'done' THEN
            NEW.completed_at := coalesce(NEW.completed_at, now());
        END IF;
    ELSE
        NEW.completed_at := NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER tasks_stamp_completion BEFORE INSERT OR UPDATE OF status ON tasks
    FOR EACH ROW EXECUTE FUNCTION tasks_stamp_completion();

-- Every status a task has had, with when: what cumulative flow, lead and cycle times are
-- computed from. Written by a trigger, so that no route that changes a status can forget it.
CREATE TABLE task_status_history (
    id          bigint      GENERATED ALWAYS AS IDENTITY,
    task_id     uuid        NOT NULL,
    project_id  uuid,
    from_status text,                  -- NULL: the task was created
    to_status   text        NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT task_status_history_pkey PRIMARY KEY (id),
    CONSTRAINT task_status_history_task_fk FOREIGN KEY (task_id) REFERENCES tasks (id)
        ON DELETE CASCADE
);
CREATE INDEX task_status_history_project_idx ON task_status_history (project_id, at);
CREATE INDEX task_status_history_task_idx ON task_status_history (task_id, at);

-- SECURITY DEFINER: the history is written only by this trigger (the app role may not insert
-- into it, so no route can forge a transition the reports would count).
CREATE FUNCTION tasks_track_status() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO task_status_history (task_id, project_id, from_status, to_status, at)
        VALUES (NEW.id, NEW.project_id, NULL, NEW.status, NEW.created_at);
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        INSERT INTO task_status_history (task_id, project_id, from_status, to_status, at)
        VALUES (NEW.id, NEW.project_id, OLD.status, NEW.status, now());
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER tasks_track_status AFTER INSERT OR UPDATE OF status ON tasks
    FOR EACH ROW EXECUTE FUNCTION tasks_track_status();

-- A deleted account's personal tasks go with it (its project tasks stay: created_by → NULL).
CREATE FUNCTION users_delete_personal_tasks() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM tasks WHERE project_id IS NULL AND created_by = OLD.id;
    RETURN OLD;
END $$;
CREATE TRIGGER users_delete_personal_tasks BEFORE DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION users_delete_personal_tasks();

-- A session's project must exist; before today the column referenced nothing (no projects
-- existed), so any value in it pointed nowhere and is cleared rather than kept dangling.
UPDATE sessions SET project_id = NULL WHERE project_id IS NOT NULL;
ALTER TABLE sessions ADD CONSTRAINT sessions_project_fk FOREIGN KEY (project_id)
    REFERENCES projects (id) ON DELETE SET NULL;
CREATE INDEX sessions_project_idx ON sessions (project_id) WHERE project_id IS NOT NULL;

-- What user `u` is to project `p`: 'owner', 'admin' (an admin who does not own it), 'member',
-- or NULL (a stranger, or no such project). The one definition of tracker access: every query
-- passes the caller's id through it, so that access is part of the SQL, not a check after it.
-- Owner and admin change the project and its members; members read it and work on its tasks.
CREATE FUNCTION project_role(p uuid, u uuid) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN (SELECT CASE
                       WHEN pr.owner_id = u THEN 'owner'
                       WHEN EXISTS (SELECT 1 FROM users WHERE id = u AND role = 'admin') THEN 'admin'
                       WHEN EXISTS (SELECT 1 FROM project_members m
                                    WHERE m.project_id = p AND m.user_id = u) THEN 'member'
                   END
            FROM projects pr WHERE pr.id = p);

-- May user `u` see (and so work on) a task of project `project_id` created by `created_by`?
-- A personal task: its creator only (not even an admin). A project's: anyone with a role in it.
CREATE FUNCTION task_visible(project_id uuid, created_by uuid, u uuid) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN CASE WHEN project_id IS NULL THEN created_by IS NOT DISTINCT FROM u
                ELSE project_role(project_id, u) IS NOT NULL END;

-- Who hears a project's events: its owner and its members (admins who are neither do not).
CREATE FUNCTION project_audience(p uuid) RETURNS uuid[]
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN ARRAY(SELECT owner_id FROM projects WHERE id = p
                 UNION
                 SELECT user_id FROM project_members WHERE project_id = p);

-- Serialises the changes of one board (a project's, or a personal one) until the transaction
-- ends: creating, moving, deleting and re-statusing tasks renumber its columns, and two at
-- once would give duplicate or missing positions. (An advisory lock, because a personal board
-- has no row to lock; key 1100 is the tracker's class, the board's hash the lock.)
CREATE FUNCTION lock_board(b uuid) RETURNS void
    LANGUAGE sql VOLATILE
    RETURN pg_advisory_xact_lock(1100, hashtext(b::text));

-- {field: [old, new]} for every key whose value differs between two JSON objects: an activity
-- entry's `changes` (callers pass to_jsonb of the fields they show). A missing key counts as
-- null, so {} against {"a": null} is no change.
CREATE FUNCTION activity_changes(old jsonb, new jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (SELECT coalesce(jsonb_object_agg(k, jsonb_build_array(coalesce(old -> k, 'null'),
                                                                    coalesce(new -> k, 'null'))),
                            '{}')
            FROM (SELECT jsonb_object_keys(coalesce(old, '{}'))
                  UNION
                  SELECT jsonb_object_keys(coalesce(new, '{}'))) AS keys(k)
            WHERE coalesce(old -> k, 'null') IS DISTINCT FROM coalesce(new -> k, 'null'));

-- What happened, append-only and tamper-evident. Each entry is linked into a chain (its
-- project's, or for a personal task the actor's) by the hash of its content and of its
-- predecessor's hash; activity_chains holds each chain's head, so that a deleted last entry is
-- found too. No foreign keys: the log outlives the users, projects and tasks it names.
CREATE TABLE activity (
    seq        bigint      GENERATED ALWAYS AS IDENTITY,  -- the global order (newest first)
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    at         timestamptz NOT NULL DEFAULT now(),
    actor_id   uuid,                    -- NULL: the system (the worker filling a memo's prompts)
    project_id uuid,
    entity     text        NOT NULL,
    entity_id  uuid        NOT NULL,
    action     text        NOT NULL,
    changes    jsonb       NOT NULL DEFAULT '{}',
    -- Set by activity_link (the inserter's values are overwritten):
    chain      uuid        NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000',
    chain_seq  bigint      NOT NULL DEFAULT 0,
    prev_hash  bytea       NOT NULL DEFAULT '\x',
    hash       bytea       NOT NULL DEFAULT '\x',
    CONSTRAINT activity_pkey PRIMARY KEY (seq),
    CONSTRAINT activity_id_key UNIQUE (id),
    CONSTRAINT activity_chain_key UNIQUE (chain, chain_seq),
    CONSTRAINT activity_entity_check CHECK (entity IN ('project', 'task', 'member')),
    CONSTRAINT activity_changes_check CHECK (jsonb_typeof(changes) = 'object')
);
CREATE INDEX activity_project_idx ON activity (project_id, seq DESC);
CREATE INDEX activity_entity_idx ON activity (entity_id, seq DESC);
CREATE INDEX activity_actor_idx ON activity (actor_id, seq DESC);

CREATE TABLE activity_chains (
    chain     uuid   NOT NULL,
    last_seq  bigint NOT NULL,
    last_hash bytea  NOT NULL,
    CONSTRAINT activity_chains_pkey PRIMARY KEY (chain)
);

-- The hash of an entry: SHA-256 over its content and its predecessor's hash. jsonb's text is
-- canonical (keys sorted, one spelling per value), so the same content always hashes the same.
CREATE FUNCTION activity_hash(a activity) RETURNS bytea
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN sha256(convert_to(concat_ws('|', a.chain, a.chain_seq, a.id,
                                       (extract(epoch FROM a.at) * 1000000)::bigint,
                                       coalesce(a.actor_id::text, '-'),
                                       coalesce(a.project_id::text, '-'), a.entity, a.entity_id,
                                       a.action, a.changes::text), 'UTF8') || a.prev_hash);

-- Links a new entry into its chain. The head row's lock orders a chain's writers, so that
-- chain_seq and prev_hash follow commit order within a chain. SECURITY DEFINER: the app role
-- has no right on activity_chains at all, so it cannot move a head to hide a deletion.
CREATE FUNCTION activity_link() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    head activity_chains%ROWTYPE;
BEGIN
    NEW.chain := coalesce(NEW.project_id, NEW.actor_id, '00000000-0000-0000-0000-000000000000');
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
CREATE TRIGGER activity_link BEFORE INSERT ON activity
    FOR EACH ROW EXECUTE FUNCTION activity_link();

-- No one rewrites history through SQL either, the owner role included (a superuser can, by
-- turning triggers off: /activity/verify then finds what was changed).
CREATE FUNCTION activity_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the activity log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER activity_append_only BEFORE UPDATE OR DELETE ON activity
    FOR EACH ROW EXECUTE FUNCTION activity_refuse_change();
CREATE TRIGGER activity_no_truncate BEFORE TRUNCATE ON activity
    FOR EACH STATEMENT EXECUTE FUNCTION activity_refuse_change();

DO $$
DECLARE
    app text := current_setting('rostrum.app_role');
BEGIN
    -- The log is appended to and read, never changed: the app role's UPDATE and DELETE (from
    -- 0003's default privileges) are taken back, and it gets nothing on the chain heads.
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON activity FROM %I', app);
    EXECUTE format('REVOKE ALL ON activity_chains FROM %I', app);
    -- The status history is written by its trigger (as the owner) and read by the reports.
    EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON task_status_history FROM %I', app);
END $$;

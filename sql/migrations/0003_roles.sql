-- Who may do what. `rostrum migrate` runs every migration as the owner role (db.owner_role),
-- which owns every table; `rostrum api`, `worker` and `live` log in as the application role
-- (db.app_role, named by the setting rostrum.app_role), which owns nothing, may run no DDL and
-- gets only the DML the code uses.

DO $$
DECLARE
    app text := current_setting('rostrum.app_role');
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', app);
    -- Tables and sequences created by later migrations (run as the owner, like this one) get
    -- the same grants without each migration repeating them; a migration that wants fewer
    -- (an append-only table) revokes what it does not want.
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public '
                   'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', app);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public '
                   'GRANT USAGE, SELECT ON SEQUENCES TO %I', app);
    -- The existing tables: what the code does with each, no more. Rows that go with a user or
    -- a session (tokens, words, analyses, jobs) are deleted by their foreign keys' cascades,
    -- which run as the owner.
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON users, sessions TO %I', app);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON refresh_tokens, analyses, jobs, workers TO %I', app);
    -- A transcript's words are replaced as a whole.
    EXECUTE format('GRANT SELECT, INSERT, DELETE ON words TO %I', app);
    -- The event log is what happened: the daemons append, read and prune by age, and never
    -- rewrite an event.
    EXECUTE format('GRANT SELECT, INSERT, DELETE ON events TO %I', app);
    -- /readyz compares the schema's version with the binary's.
    EXECUTE format('GRANT SELECT ON schema_migrations TO %I', app);
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', app);
END $$;

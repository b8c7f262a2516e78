-- Issue 9: a per-account back-off on failed password checks (item 9), and at most one pending
-- job per session (item 7).

-- Failed password checks (login, token, PATCH /auth/me) by account. Keyed by the normalised
-- email, known or not, so that a 429 says nothing about which accounts exist. `source` is ''
-- for the account-wide counter that every unknown address shares (rotating addresses gains an
-- attacker nothing), or an address the account logged in from before (auth_known_sources):
-- the owner's own counter, which an attacker elsewhere cannot push.
CREATE TABLE auth_failures (
    email         text        NOT NULL,
    source        text        NOT NULL,
    failures      integer     NOT NULL DEFAULT 0,
    blocked_until timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT auth_failures_pkey PRIMARY KEY (email, source)
);
-- The worker's sweep prunes counters untouched for a day.
CREATE INDEX auth_failures_updated_idx ON auth_failures (updated_at);

-- Addresses (an IPv6 address as its /64) each account logged in from successfully.
CREATE TABLE auth_known_sources (
    user_id uuid        NOT NULL,
    source  text        NOT NULL,
    seen_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT auth_known_sources_pkey PRIMARY KEY (user_id, source),
    CONSTRAINT auth_known_sources_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
        ON DELETE CASCADE
);

-- One pending (queued or running) job per session: a second reanalyze, or any second enqueue,
-- finds the first instead of queueing another. Duplicates already queued are closed first,
-- keeping a running one (its worker's writes are fenced by status = 'running').
UPDATE jobs SET status = 'dead', last_error = 'superseded by another pending job of its session',
                locked_by = NULL, locked_until = NULL, updated_at = now()
WHERE status IN ('queued', 'running')
  AND id NOT IN (SELECT DISTINCT ON (session_id) id FROM jobs
                 WHERE status IN ('queued', 'running')
                 ORDER BY session_id, (status = 'running') DESC, id);
CREATE UNIQUE INDEX jobs_one_pending_per_session ON jobs (session_id)
    WHERE status IN ('queued', 'running');
-- Per-user quota on pending jobs (jobs.max_queued_per_user).
CREATE INDEX jobs_user_pending_idx ON jobs (user_id) WHERE status IN ('queued', 'running');
-- The sweep asks whether a stored file still has its session.
CREATE INDEX sessions_audio_path_idx ON sessions (audio_path);

-- Recorded sessions, their words and analyses, the job queue, and the event log.

CREATE TABLE sessions (
    id           uuid        NOT NULL,
    user_id      uuid        NOT NULL,
    kind         text        NOT NULL DEFAULT 'practice',
    title        text        NOT NULL DEFAULT '',
    status       text        NOT NULL DEFAULT 'queued',
    progress     real        NOT NULL DEFAULT 0,
    error        text,
    audio_path   text        NOT NULL,   -- file name under <data>/audio/, never user input
    audio_format text        NOT NULL,   -- "wav", "flac", ...
    audio_mime   text        NOT NULL,   -- what downloads are served as
    audio_bytes  bigint      NOT NULL,
    duration_s   double precision,
    language     text        NOT NULL DEFAULT 'en-us',
    patient_id   uuid,
    project_id   uuid,
    transcript_text text,
    engine       text,
    summary      text,
    notes        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sessions_pkey PRIMARY KEY (id),
    CONSTRAINT sessions_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT sessions_kind_check CHECK (kind IN ('practice', 'scribe', 'interview', 'memo')),
    CONSTRAINT sessions_status_check CHECK (status IN ('queued', 'processing', 'done', 'failed')),
    CONSTRAINT sessions_progress_check CHECK (progress >= 0 AND progress <= 1)
);
-- The list query: a user's sessions, newest first, keyset-paged.
CREATE INDEX sessions_user_created_idx ON sessions (user_id, created_at DESC, id DESC);

CREATE TABLE words (
    session_id uuid             NOT NULL,
    idx        integer          NOT NULL,
    word       text             NOT NULL,
    start_s    double precision NOT NULL,
    end_s      double precision NOT NULL,
    confidence real             NOT NULL,
    filler     boolean          NOT NULL DEFAULT false,
    CONSTRAINT words_pkey PRIMARY KEY (session_id, idx),
    CONSTRAINT words_session_fk FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE
);

-- metrics is the API's Analysis object; the numeric columns are what reports aggregate.
CREATE TABLE analyses (
    session_id      uuid             NOT NULL,
    metrics         jsonb            NOT NULL,
    wpm             double precision,
    fillers_per_min double precision,
    overall         integer,
    created_at      timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT analyses_pkey PRIMARY KEY (session_id),
    CONSTRAINT analyses_session_fk FOREIGN KEY (session_id) REFERENCES sessions (id)
        ON DELETE CASCADE
);

-- The job queue. A claim takes a queued job whose run_after has come, or a running job whose
-- lease expired, with FOR UPDATE SKIP LOCKED; attempts is the fencing token: a worker can only
-- renew, complete or fail the job while attempts still equals the value its claim returned.
CREATE TABLE jobs (
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    kind         text        NOT NULL,   -- "transcribe" | "analyze"
    session_id   uuid        NOT NULL,
    user_id      uuid        NOT NULL,
    lane         text        NOT NULL DEFAULT 'long',   -- "short" clips never wait behind long ones
    status       text        NOT NULL DEFAULT 'queued',
    attempts     integer     NOT NULL DEFAULT 0,
    max_attempts integer     NOT NULL DEFAULT 5,
    run_after    timestamptz NOT NULL DEFAULT now(),
    locked_by    text,
    locked_until timestamptz,
    last_error   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT jobs_pkey PRIMARY KEY (id),
    CONSTRAINT jobs_session_fk FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE,
    CONSTRAINT jobs_status_check CHECK (status IN ('queued', 'running', 'done', 'dead')),
    CONSTRAINT jobs_lane_check CHECK (lane IN ('short', 'long'))
);
CREATE INDEX jobs_claimable_idx ON jobs (lane, run_after, id) WHERE status IN ('queued', 'running');

-- Events for the realtime channel: stored with a sequence number (LISTEN/NOTIFY drops what is
-- sent while a listener is away; a client resumes with ?since=<seq>), pruned by age.
CREATE TABLE events (
    seq     bigint      GENERATED ALWAYS AS IDENTITY,
    user_id uuid        NOT NULL,
    event   text        NOT NULL,
    data    jsonb       NOT NULL,
    at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_pkey PRIMARY KEY (seq)
);
CREATE INDEX events_user_seq_idx ON events (user_id, seq);

-- Workers announce themselves; /readyz wants one seen in the last minute.
CREATE TABLE workers (
    name      text        NOT NULL,
    seen_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT workers_pkey PRIMARY KEY (name)
);

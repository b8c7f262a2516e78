// Applies sql/migrations in order, once, under an advisory lock, as the owner role; creates
// the owner and application roles first when the session may.
#include "db/migrate.h"

#include <stdexcept>

namespace db {
namespace {

// The advisory lock key x'7262737472756d' is "rostrum" in hex: it serialises concurrent
// `migrate` runs (two hosts starting at once).
constexpr Statement kCreateTable{"migrate_create_table", R"sql(
    CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer     PRIMARY KEY,
        name       text        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
    ))sql"};
constexpr Statement kLock{"migrate_lock", "SELECT pg_advisory_lock(x'7262737472756d'::bigint)"};
constexpr Statement kUnlock{"migrate_unlock",
                            "SELECT pg_advisory_unlock(x'7262737472756d'::bigint)"};
constexpr Statement kIsApplied{"migrate_is_applied",
                               "SELECT 1 FROM schema_migrations WHERE version = $1"};
constexpr Statement kRecord{"migrate_record",
                            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)"};
constexpr Statement kAppliedVersion{"migrate_applied_version", R"sql(
    SELECT coalesce(max(version), 0) FROM schema_migrations)sql"};
constexpr Statement kTableExists{"migrate_table_exists",
                                 "SELECT to_regclass('schema_migrations') IS NOT NULL"};

// The role names reach the DO blocks below (which cannot take parameters) as settings; set
// per transaction, so a reconnection can never run a migration as the session's own role.
constexpr Statement kNames{"migrate_names", R"sql(
    SELECT set_config('rostrum.owner_role', $1, true), set_config('rostrum.app_role', $2, true))sql"};
// Inside a migration's transaction: from here on, everything is created by (and owned by)
// the owner role, whatever role the session logged in as.
constexpr Statement kBecomeOwner{"migrate_become_owner", "SELECT set_config('role', $1, true)"};

constexpr Statement kSession{"migrate_session", R"sql(
    SELECT r.rolsuper AS superuser, r.rolsuper OR r.rolcreaterole AS may_create,
           EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS owner_exists,
           EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $2) AS app_exists,
           session_user AS session
      FROM pg_roles r WHERE r.rolname = session_user)sql"};

// The owner can log in nowhere: migrate reaches it with SET ROLE. The application role logs
// in, and may do nothing a table grant does not give it. Two migrations of different
// databases in one cluster may race to create them: the loser's error is expected.
constexpr const char* kCreateRoles = R"sql(
DO $$
DECLARE
    owner text := current_setting('rostrum.owner_role');
    app   text := current_setting('rostrum.app_role');
BEGIN
    BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN', owner);
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
    BEGIN
        EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT '
                       'NOREPLICATION NOBYPASSRLS', app);
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
    IF NOT pg_has_role(session_user, owner, 'MEMBER') THEN
        EXECUTE format('GRANT %I TO %I', owner, session_user);
    END IF;
END $$)sql";

// As a superuser: the owner role takes the database (so that a later migration may add a
// trusted extension), the public schema and whatever an older version left owned by the
// session's role; the database admits only the two roles (no TEMP for PUBLIC either: a
// temporary table is DDL too).
constexpr const char* kAdoptDatabase = R"sql(
DO $$
DECLARE
    owner text := current_setting('rostrum.owner_role');
    app   text := current_setting('rostrum.app_role');
    obj   record;
BEGIN
    EXECUTE format('ALTER DATABASE %I OWNER TO %I', current_database(), owner);
    EXECUTE format('ALTER SCHEMA public OWNER TO %I', owner);
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I, %I', current_database(), owner, app);
    -- Tables first: their identity sequences follow them.
    FOR obj IN SELECT c.oid::regclass AS name FROM pg_class c
                WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                  AND c.relowner <> owner::regrole LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO %I', obj.name, owner);
    END LOOP;
    FOR obj IN SELECT c.oid::regclass AS name FROM pg_class c
                WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'S'
                  AND c.relowner <> owner::regrole LOOP
        EXECUTE format('ALTER SEQUENCE %s OWNER TO %I', obj.name, owner);
    END LOOP;
    FOR obj IN SELECT p.oid::regprocedure AS name FROM pg_proc p
                WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> owner::regrole LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO %I', obj.name, owner);
    END LOOP;
END $$)sql";

constexpr Statement kMayBeOwner{"migrate_may_be_owner",
                                "SELECT pg_has_role(session_user, $1, 'MEMBER')"};

// The application role must not be able to do more than its grants: refused otherwise.
constexpr Statement kAppRoleRights{"migrate_app_role_rights", R"sql(
    SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls
           OR pg_has_role($2, $1, 'MEMBER')
      FROM pg_roles WHERE rolname = $2)sql"};

// Holds the session advisory lock for its lifetime.
class MigrationLock {
  public:
    explicit MigrationLock(Db& db) : db_(db) { db_.exec(kLock); }
    ~MigrationLock() {
        try {
            db_.exec(kUnlock);
        } catch (...) {
            // The lock dies with the session anyway.
        }
    }

  private:
    Db& db_;
};

// BEGIN, the role names, SET LOCAL ROLE owner.
class OwnerTx {
  public:
    OwnerTx(Db& db, const Roles& roles) : tx_(db) {
        db.exec(kNames, {roles.owner, roles.app});
        db.exec(kBecomeOwner, {roles.owner});
    }
    void commit() { tx_.commit(); }

  private:
    Tx tx_;
};

std::string missing_roles_help(const Roles& r, const std::string& session) {
    return "the roles " + r.owner + " (db.owner_role) and " + r.app +
           " (db.app_role) must exist, and " + session +
           " may not create roles; as a superuser run:\n"
           "  CREATE ROLE " +
           r.owner + " NOLOGIN; GRANT " + r.owner + " TO " + session +
           ";\n"
           "  CREATE ROLE " +
           r.app +
           " LOGIN PASSWORD '...';\n"
           "  ALTER SCHEMA public OWNER TO " +
           r.owner +
           "; REVOKE ALL ON DATABASE <db> FROM PUBLIC;\n"
           "  GRANT CONNECT ON DATABASE <db> TO " +
           r.owner + ", " + r.app + ";";
}

// Creates what is missing (when allowed) and takes the database over as a superuser.
void prepare_roles(Db& db, const Roles& roles) {
    Result r = db.exec(kSession, {roles.owner, roles.app});
    Row s(r, 0);
    bool superuser = s.boolean("superuser"), may_create = s.boolean("may_create");
    bool exist = s.boolean("owner_exists") && s.boolean("app_exists");
    std::string session = s.str("session");
    if (!exist && !may_create) throw std::runtime_error(missing_roles_help(roles, session));
    Tx tx(db);
    db.exec(kNames, {roles.owner, roles.app});
    if (may_create) db.exec_script(kCreateRoles);
    if (superuser) db.exec_script(kAdoptDatabase);
    if (!db.exec(kMayBeOwner, {roles.owner}).scalar_bool())
        throw std::runtime_error(session + " may not act as db.owner_role " + roles.owner +
                                 ": GRANT " + roles.owner + " TO " + session +
                                 ", or let db.url log in as " + roles.owner);
    Result rights = db.exec(kAppRoleRights, {roles.owner, roles.app});
    if (rights.rows() != 1 || rights.scalar_bool())
        throw std::runtime_error("db.app_role " + roles.app +
                                 " is a superuser, may create roles or databases, bypasses row "
                                 "security or is a member of " +
                                 roles.owner +
                                 ": the daemons must log in as a role with table grants only");
    tx.commit();
}

}  // namespace

std::vector<std::string> migrate(Db& db, const Roles& roles) {
    std::vector<std::string> applied;
    MigrationLock lock(db);
    prepare_roles(db, roles);
    {
        OwnerTx tx(db, roles);
        db.exec(kCreateTable);
        tx.commit();
    }
    for (const Migration& m : embedded_migrations()) {
        std::string version = std::to_string(m.version);
        if (db.exec(kIsApplied, {version}).rows() > 0) continue;
        OwnerTx tx(db, roles);
        db.exec_script(std::string(m.sql));
        db.exec(kRecord, {version, std::string(m.name)});
        tx.commit();
        applied.emplace_back(m.name);
    }
    return applied;
}

int applied_version(Db& db) {
    if (!db.exec(kTableExists).scalar_bool()) return 0;
    return static_cast<int>(db.exec(kAppliedVersion).scalar_i64());
}

}  // namespace db

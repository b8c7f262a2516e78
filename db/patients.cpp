// Queries on patients.
#include "db/patients.h"

namespace db {
namespace {

#define PATIENT_COLUMNS                                                        \
    "id, user_id, name, age::text AS age, gender, phone, notes, "              \
    "api_time(created_at) AS created_at, api_time(updated_at) AS updated_at, " \
    "(extract(epoch from created_at) * 1000000)::bigint AS cursor_key"

constexpr Statement kInsertPatient{"insert_patient", R"sql(
    INSERT INTO patients (user_id, name, age, gender, phone, notes)
    VALUES ($1, $2, $3::integer, $4, $5, $6)
    RETURNING )sql" PATIENT_COLUMNS};
constexpr Statement kFindPatient{
    "find_patient", "SELECT " PATIENT_COLUMNS " FROM patients WHERE id = $1 AND user_id = $2",
    kIdempotent};
constexpr Statement kOwnsPatient{
    "owns_patient", "SELECT 1 FROM patients WHERE id = $1 AND user_id = $2", kIdempotent};
// ILIKE with an explicit escape character: the pattern is built by like_contains.
constexpr Statement kListPatients{"list_patients", "SELECT " PATIENT_COLUMNS R"sql(
    FROM patients
    WHERE user_id = $1
      AND ($2::text IS NULL OR name ILIKE $2 ESCAPE '\')
      AND ($3::bigint IS NULL
           OR ((extract(epoch from created_at) * 1000000)::bigint, id) < ($3::bigint, $4::uuid))
    ORDER BY patients.created_at DESC, patients.id DESC
    LIMIT $5)sql",
                                  kIdempotent};
constexpr Statement kUpdatePatient{"update_patient", R"sql(
    UPDATE patients SET
        name = coalesce($3, name),
        age = CASE WHEN $8::boolean THEN NULL ELSE coalesce($4::integer, age) END,
        gender = CASE WHEN $9::boolean THEN NULL ELSE coalesce($5, gender) END,
        phone = CASE WHEN $10::boolean THEN NULL ELSE coalesce($6, phone) END,
        notes = CASE WHEN $11::boolean THEN NULL ELSE coalesce($7, notes) END,
        updated_at = now()
    WHERE id = $1 AND user_id = $2
    RETURNING )sql" PATIENT_COLUMNS};
// The foreign key's SET NULL updates the patient's sessions after the patient row is locked;
// a worker's transaction that updates one of those sessions twice (progress, then done) has
// the key checked again on the second update, which waits for the patient row: the two
// deadlocked (answered 503). The sessions are locked first here, in the workers' order
// (session, then patient), as delete_session locks the job first.
constexpr Statement kDeletePatient{"delete_patient", R"sql(
    WITH linked AS (SELECT id FROM sessions WHERE patient_id = $1 AND user_id = $2
                    ORDER BY id FOR NO KEY UPDATE)
    DELETE FROM patients
    WHERE id = $1 AND user_id = $2 AND (SELECT count(*) FROM linked) >= 0)sql"};

Patient patient_from(const Result& r, int i) {
    Row row(r, i);
    Patient p;
    p.id = row.str("id");
    p.user_id = row.str("user_id");
    p.name = row.str("name");
    p.age = row.opt("age");
    p.gender = row.opt("gender");
    p.phone = row.opt("phone");
    p.notes = row.opt("notes");
    p.created_at = row.str("created_at");
    p.updated_at = row.str("updated_at");
    p.cursor_key = row.str("cursor_key");
    return p;
}

std::optional<Patient> maybe_patient(const Result& r) {
    if (r.rows() == 0) return std::nullopt;
    return patient_from(r, 0);
}

std::string flag(bool b) {
    return b ? "true" : "false";
}

}  // namespace

Patient insert_patient(Db& db, const std::string& user_id, const NewPatient& p) {
    return patient_from(
        db.exec(kInsertPatient, {user_id, p.name, p.age, p.gender, p.phone, p.notes}), 0);
}

std::optional<Patient> find_patient(Db& db, const std::string& user_id, const std::string& id) {
    return maybe_patient(db.exec(kFindPatient, {id, user_id}));
}

bool owns_patient(Db& db, const std::string& user_id, const std::string& id) {
    return db.exec(kOwnsPatient, {id, user_id}).rows() > 0;
}

std::vector<Patient> list_patients(Db& db, const std::string& user_id, const PatientFilter& f,
                                   int limit) {
    Param q = f.q ? Param(like_contains(*f.q)) : Param();
    Result r =
        db.exec(kListPatients, {user_id, q, f.before_key, f.before_id, std::to_string(limit)});
    std::vector<Patient> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(patient_from(r, i));
    return out;
}

std::optional<Patient> update_patient(Db& db, const std::string& user_id, const std::string& id,
                                      const PatientChanges& c) {
    return maybe_patient(db.exec(
        kUpdatePatient, {id, user_id, c.name, c.age, c.gender, c.phone, c.notes, flag(c.clear_age),
                         flag(c.clear_gender), flag(c.clear_phone), flag(c.clear_notes)}));
}

bool delete_patient(Db& db, const std::string& user_id, const std::string& id) {
    return db.exec(kDeletePatient, {id, user_id}).affected() > 0;
}

}  // namespace db

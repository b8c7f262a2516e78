// Typed queries on patients: a clinician's own records of the people they see. Every query
// carries the caller's id: another user's patient and no patient are the same nullopt.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "db/pg.h"

namespace db {

struct Patient {
    std::string id;
    std::string user_id;
    std::string name;
    std::optional<std::string> age;  // an integer, as text (read_body's and the Value's shape)
    std::optional<std::string> gender, phone, notes;
    std::string created_at, updated_at;
    std::string cursor_key;  // created_at in µs since the epoch
};

struct NewPatient {
    std::string name;
    std::optional<std::string> age, gender, phone, notes;
};
Patient insert_patient(Db& db, const std::string& user_id, const NewPatient& p);
std::optional<Patient> find_patient(Db& db, const std::string& user_id, const std::string& id);
// Whether `id` names one of the user's patients (a session's patient_id must).
bool owns_patient(Db& db, const std::string& user_id, const std::string& id);

struct PatientFilter {
    std::optional<std::string> q;  // name contains, case-insensitive (LIKE metacharacters literal)
    std::optional<std::string> before_key, before_id;
};
std::vector<Patient> list_patients(Db& db, const std::string& user_id, const PatientFilter& f,
                                   int limit);

// A PATCH: a set value replaces, `clear_*` (JSON null) empties a nullable field.
struct PatientChanges {
    std::optional<std::string> name, age, gender, phone, notes;
    bool clear_age = false, clear_gender = false, clear_phone = false, clear_notes = false;
};
std::optional<Patient> update_patient(Db& db, const std::string& user_id, const std::string& id,
                                      const PatientChanges& c);
// The patient's sessions stay and lose their patient_id (the foreign key's SET NULL).
bool delete_patient(Db& db, const std::string& user_id, const std::string& id);

}  // namespace db

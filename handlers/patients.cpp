// Patients: a clinician's own records of the people they see. Every query carries the caller's
// id: another user's patient answers 404 on every route, its sessions list included.
#include <string>

#include "core/config.h"
#include "core/json.h"
#include "core/problem.h"
#include "core/utf8.h"
#include "db/patients.h"
#include "db/sessions.h"
#include "handlers/common.h"
#include "handlers/resource.h"
#include "handlers/routes.h"
#include "handlers/scribe.h"

namespace handlers {
namespace {

// A name is trimmed; one of only spaces is no name.
std::string trimmed(std::string_view v) {
    size_t b = v.find_first_not_of(" \t");
    size_t e = v.find_last_not_of(" \t");
    return b == std::string_view::npos ? std::string() : std::string(v.substr(b, e - b + 1));
}

std::string name_or_422(std::string_view v) {
    std::string t = trimmed(v);
    if (t.empty()) throw core::ApiError::unprocessable("name", "must not be blank");
    return t;
}

// An international phone number as people write it: an optional leading +, digits, single
// spaces or dashes between groups, 5 to 20 digits ("+44 20 7946 0958", "555-0100"). Anything
// else (letters, "++1", "1--2", a trailing dash) answers 422: a note's phone must be callable.
std::string phone_or_422(std::string_view v) {
    std::string t = trimmed(v);
    auto bad = [] {
        return core::ApiError::unprocessable("phone",
                                             "must be a phone number: an optional +, then 5-20 "
                                             "digits with single spaces or dashes between groups");
    };
    size_t digits = 0;
    bool after_separator = true;  // no separator first
    for (size_t i = 0; i < t.size(); ++i) {
        char c = t[i];
        if (c >= '0' && c <= '9') {
            ++digits;
            after_separator = false;
        } else if (c == '+' && i == 0) {
            continue;
        } else if ((c == ' ' || c == '-') && !after_separator) {
            after_separator = true;
        } else {
            throw bad();
        }
    }
    if (after_separator || digits < 5 || digits > 20) throw bad();
    return t;
}

using Rec = db::Patient;
// clang-format off
constexpr Field kPatientFields[] = {
    {.name = "id", .type = Type::uuid, .use = kOut, .get = FIELD_GET(id)},
    {.name = "name", .type = Type::string, .use = kOut | kCreate | kPatch, .get = FIELD_GET(name),
     .min = 1, .max = 200, .required = kCreate, .normalise = name_or_422},
    {.name = "age", .type = Type::integer, .use = kOut | kCreate | kPatch | kNullable,
     .get = [](const void* p) -> Value {
         const auto& a = static_cast<const Rec*>(p)->age;
         return a ? Value(static_cast<int64_t>(std::stoll(*a))) : Value();
     },
     .min = 0, .max = 150, .description = "years"},
    {.name = "gender", .type = Type::string, .use = kOut | kCreate | kPatch | kNullable,
     .get = FIELD_GET(gender), .max = 50, .description = "as the patient describes it"},
    {.name = "phone", .type = Type::string, .use = kOut | kCreate | kPatch | kNullable,
     .get = FIELD_GET(phone), .max = 40,
     .description = "an optional +, then 5-20 digits with single spaces or dashes between groups",
     .normalise = phone_or_422},
    {.name = "notes", .type = Type::text, .use = kOut | kCreate | kPatch | kNullable,
     .get = FIELD_GET(notes), .max = 20000},
    {.name = "created_at", .type = Type::timestamp, .use = kOut, .get = FIELD_GET(created_at)},
    {.name = "updated_at", .type = Type::timestamp, .use = kOut, .get = FIELD_GET(updated_at)},
    {.name = "q", .type = Type::string, .use = kFilter, .max = 200,
     .description = "name contains this, case-insensitive"},
};
constexpr Body kPatientBodies[] = {{kCreate, "PatientCreate"}, {kPatch, "PatientUpdate"}};
// clang-format on

}  // namespace

constexpr Resource kPatients{.schema = "Patient",
                             .fields = kPatientFields,
                             .bodies = kPatientBodies,
                             .cursor_key = FIELD_GET(cursor_key),
                             .cursor_id = FIELD_GET(id)};

namespace {

std::string path_id(const Request& req) {
    return std::string(req.path_param("id"));
}

// `"age": null` clears the age: the integer reader takes null as absent, so it is read here.
bool clears(const cJSON* body, const char* name) {
    return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(body, name));
}

void patient_or_404(Ctx& ctx, const std::string& user_id, const std::string& id) {
    if (!db::owns_patient(ctx.db, user_id, id)) throw core::ApiError::not_found("no such patient");
}

}  // namespace

void require_own_patient(Ctx& ctx, const std::string& user_id,
                         const std::optional<std::string>& patient_id) {
    if (patient_id && !db::owns_patient(ctx.db, user_id, *patient_id))
        throw core::ApiError::unprocessable("patient_id", "is not one of your patients");
}

bool consent_or_422(Ctx& ctx, const std::optional<std::string>& consent, const std::string& kind) {
    bool given = false;
    if (consent) {
        if (*consent == "true" || *consent == "1") {
            given = true;
        } else if (*consent != "false" && *consent != "0") {
            throw core::ApiError::unprocessable("consent", "must be true or false");
        }
    }
    if (kind == "scribe" && ctx.cfg.scribe_require_consent && !given)
        throw core::ApiError::unprocessable(
            "consent", "a scribe recording needs consent=true (scribe.require_consent)");
    return given;
}

Response patients_create(Request& req, Ctx& ctx) {
    core::JsonPtr body = json_body(req);
    Input in = read_body(kPatients, body.get(), kCreate);
    db::NewPatient p{in.take("name"), in.str("age"), in.str("gender"), in.str("phone"),
                     in.str("notes")};
    db::Patient row = db::insert_patient(ctx.db, req.user().id, p);
    return Response::json(201, to_json(kPatients, row))
        .header("Location", "/api/v1/patients/" + row.id);
}

Response patients_list(Request& req, Ctx& ctx) {
    Input q = read_filters(kPatients, req);
    Page p = read_page(req);
    if (auto v = q.str("q"); v && core::utf8_length(*v) > 200)
        throw core::ApiError::bad_request("must be at most 200 characters", "q");
    db::PatientFilter f{q.str("q"), p.key, p.id};
    if (f.q && f.q->empty()) f.q.reset();
    std::vector<db::Patient> rows = db::list_patients(ctx.db, req.user().id, f, p.limit + 1);
    return list_response(kPatients, rows, p.limit);
}

Response patients_get(Request& req, Ctx& ctx) {
    auto p = db::find_patient(ctx.db, req.user().id, path_id(req));
    if (!p) throw core::ApiError::not_found("no such patient");
    return Response::json(200, to_json(kPatients, *p));
}

Response patients_update(Request& req, Ctx& ctx) {
    core::JsonPtr body = json_body(req);
    Input in = read_body(kPatients, body.get(), kPatch);
    db::PatientChanges c{in.str("name"),       in.str("age"),       in.str("gender"),
                         in.str("phone"),      in.str("notes"),     clears(body.get(), "age"),
                         in.is_null("gender"), in.is_null("phone"), in.is_null("notes")};
    auto p = db::update_patient(ctx.db, req.user().id, path_id(req), c);
    if (!p) throw core::ApiError::not_found("no such patient");
    return Response::json(200, to_json(kPatients, *p));
}

// The patient's sessions stay, unlinked (sessions_patient_fk: ON DELETE SET NULL (patient_id)).
Response patients_delete(Request& req, Ctx& ctx) {
    if (!db::delete_patient(ctx.db, req.user().id, path_id(req)))
        throw core::ApiError::not_found("no such patient");
    return Response::no_content();
}

// The sessions list's shape and paging (kSessions), filtered to the patient.
Response patients_sessions(Request& req, Ctx& ctx) {
    const std::string id = path_id(req);
    patient_or_404(ctx, req.user().id, id);
    Page p = read_page(req);
    db::SessionFilter f;
    f.patient_id = id;
    f.before_key = p.key;
    f.before_id = p.id;
    std::vector<db::Session> rows = db::list_sessions(ctx.db, req.user().id, f, p.limit + 1);
    return list_response(kSessions, rows, p.limit);
}

}  // namespace handlers

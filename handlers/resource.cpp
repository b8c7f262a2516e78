// The generic half of a resource description: validation, filters, paging, JSON and OpenAPI
// from a field table. Nothing here knows a resource by name.
#include "handlers/resource.h"

#include <algorithm>
#include <stdexcept>

#include "core/numbers.h"
#include "core/problem.h"
#include "core/query.h"
#include "fcgi/router.h"
#include "handlers/common.h"

namespace handlers {

// Sets an Input's values; only this file builds one.
class InputBuilder {
  public:
    explicit InputBuilder(const Resource& res) { in_.res_ = &res; }
    void text(const char* name, std::string v) { in_.text_[name] = std::move(v); }
    void boolean(const char* name, bool v) { in_.bools_[name] = v; }
    void list(const char* name, std::vector<std::string> v) { in_.lists_[name] = std::move(v); }
    void null(const char* name) { in_.nulls_.emplace_back(name); }
    bool has(const char* name) const { return in_.has(name); }
    Input done() { return std::move(in_); }

  private:
    Input in_;
};

namespace {

// No bound given: any length a body may carry (the body limit bounds it anyway).
constexpr size_t kUnbounded = 1 << 20;

const char* json_type(Type t) {
    switch (t) {
        case Type::integer:
            return "integer";
        case Type::number:
            return "number";
        case Type::boolean:
            return "boolean";
        case Type::object:
            return "object";
        case Type::array:
            return "array";
        default:
            return "string";
    }
}

bool is_string(Type t) {
    return std::string_view(json_type(t)) == "string";
}

size_t max_chars(const Field& f) {
    return f.max > 0 ? static_cast<size_t>(f.max) : kUnbounded;
}

// "must be admin or member", "must be practice, scribe, interview or memo".
std::string one_of_message(const Field& f) {
    std::string m = "must be ";
    for (size_t i = 0; i < f.values.size(); ++i) {
        if (i) m += i + 1 == f.values.size() ? " or " : ", ";
        m += f.values[i];
    }
    return m;
}

bool is_one_of(const Field& f, std::string_view v) {
    for (const char* a : f.values)
        if (v == a) return true;
    return false;
}

std::string uuid_or_422(std::string v, const char* field) {
    if (!core::normalise_uuid(v)) throw core::ApiError::unprocessable(field, "must be a UUID");
    return v;
}

constexpr const char* kDateMessage = "must be a date (YYYY-MM-DD) that exists";

std::string date_or_422(std::string v, const char* field) {
    if (!is_calendar_date(v)) throw core::ApiError::unprocessable(field, kDateMessage);
    return v;
}

// An array whose items come from Field::values (a resource's tags) is a set: each item one of
// them ("tags[2]" names a bad one), a repeated one dropped, the first order kept.
std::vector<std::string> enumerated_set(const Field& f, std::vector<std::string> items) {
    std::vector<std::string> out;
    for (size_t i = 0; i < items.size(); ++i) {
        if (!is_one_of(f, items[i]))
            throw core::ApiError::unprocessable(std::string(f.name) + "[" + std::to_string(i) + "]",
                                                one_of_message(f));
        if (std::find(out.begin(), out.end(), items[i]) == out.end())
            out.push_back(std::move(items[i]));
    }
    return out;
}

// An array field's elements, read and (uuid items) normalised; "ids[3]" names a bad one.
void read_json_array(core::ObjectReader& r, const Field& f, bool required, InputBuilder& in) {
    const char* n = f.name;
    if (required && !r.has(n)) throw core::ApiError::unprocessable(n, "is required");
    const bool uuids = f.items == Type::uuid;
    auto v =
        r.optional_string_array(n, static_cast<size_t>(f.min_items),
                                f.max_items > 0 ? static_cast<size_t>(f.max_items) : kUnbounded,
                                uuids ? 0 : static_cast<size_t>(f.min), uuids ? 64 : max_chars(f));
    if (!v) return;
    if (uuids)
        for (size_t i = 0; i < v->size(); ++i)
            (*v)[i] = uuid_or_422(std::move((*v)[i]),
                                  (std::string(n) + "[" + std::to_string(i) + "]").c_str());
    if (!f.values.empty()) *v = enumerated_set(f, std::move(*v));
    in.list(n, std::move(*v));
}

// A Type::object in a body: {key: integer} with keys from Field::values (wip_limits), kept as
// compact JSON in the body's key order; "wip_limits.doing" names a bad key.
void read_json_counts(core::ObjectReader& r, const Field& f, InputBuilder& in) {
    auto v = r.optional_int_object(f.name, f.min, f.max);
    if (!v) return;
    core::JsonWriter w;
    w.begin_object();
    for (const auto& [key, count] : *v) {
        if (!is_one_of(f, key))
            throw core::ApiError::unprocessable(std::string(f.name) + "." + key, one_of_message(f));
        w.field(key, count);
    }
    w.end_object();
    in.text(f.name, w.take());
}

void read_json_field(core::ObjectReader& r, const Field& f, bool required, InputBuilder& in) {
    const char* n = f.name;
    switch (f.type) {
        case Type::string:
        case Type::text:
        case Type::enumeration: {
            auto v = required ? std::optional(r.required_string(n, f.min, max_chars(f)))
                              : r.optional_string(n, f.min, max_chars(f));
            // Present but no value: JSON null, which clears a nullable one (summary: null).
            if (!v && (f.use & kNullable) && r.has(n)) in.null(n);
            if (!v) return;
            if (f.type == Type::enumeration && !is_one_of(f, *v))
                throw core::ApiError::unprocessable(n, one_of_message(f));
            in.text(n, f.normalise ? f.normalise(*v) : std::move(*v));
            return;
        }
        case Type::boolean:
            if (required && !r.has(n)) throw core::ApiError::unprocessable(n, "is required");
            if (auto b = r.optional_bool(n)) in.boolean(n, *b);
            return;
        case Type::uuid:
            if (required && !r.has(n)) throw core::ApiError::unprocessable(n, "is required");
            // null clears a nullable one; the probe's 64 keeps today's message for long junk.
            if ((f.use & kNullable) && r.has(n) && !r.optional_string(n, 0, 64)) {
                in.null(n);
            } else if (auto v = r.optional_string(n, 36, 36)) {
                in.text(n, uuid_or_422(*v, n));
            }
            return;
        case Type::integer:
            if (required && !r.has(n)) throw core::ApiError::unprocessable(n, "is required");
            if (auto v = r.optional_int(n, f.min, f.max)) in.text(n, std::to_string(*v));
            return;
        case Type::date:
            if (required && !r.has(n)) throw core::ApiError::unprocessable(n, "is required");
            if (auto v = r.optional_string(n, 0, 64)) {
                in.text(n, date_or_422(std::move(*v), n));
            } else if ((f.use & kNullable) && r.has(n)) {
                in.null(n);
            }
            return;
        case Type::array:
            read_json_array(r, f, required, in);
            return;
        case Type::object:
            if (required && !r.has(n)) throw core::ApiError::unprocessable(n, "is required");
            read_json_counts(r, f, in);
            return;
        default:
            throw std::logic_error(std::string("read_body: no body reader for field ") + n);
    }
}

}  // namespace

const Field* Resource::find(std::string_view name) const {
    for (const Field& f : fields)
        if (name == f.name) return &f;
    return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Input

namespace {
void must_declare(const Resource* res, const char* name) {
    if (!res || !res->find(name))
        throw std::logic_error(std::string("Input: the resource declares no field ") + name);
}
}  // namespace

std::optional<std::string> Input::str(const char* name) const {
    must_declare(res_, name);
    auto it = text_.find(name);
    if (it == text_.end()) return std::nullopt;
    return it->second;
}

std::optional<std::vector<std::string>> Input::list(const char* name) const {
    must_declare(res_, name);
    auto it = lists_.find(name);
    if (it == lists_.end()) return std::nullopt;
    return it->second;
}

bool Input::has(const char* name) const {
    return text_.count(name) || bools_.count(name) || lists_.count(name);
}

std::optional<bool> Input::boolean(const char* name) const {
    must_declare(res_, name);
    auto it = bools_.find(name);
    if (it == bools_.end()) return std::nullopt;
    return it->second;
}

bool Input::is_null(const char* name) const {
    must_declare(res_, name);
    for (const auto& n : nulls_)
        if (n == name) return true;
    return false;
}

Input read_body(const Resource& res, const cJSON* root, unsigned body) {
    core::ObjectReader r(root);
    InputBuilder in(res);
    for (const Field& f : res.fields) {
        if (!(f.use & body)) continue;
        read_json_field(r, f, f.required & body, in);
        // A required field sent as null holds no value either (the readers take null as
        // absent): refused here, once for every type, so no handler meets an empty one.
        if ((f.required & body) && !in.has(f.name))
            throw core::ApiError::unprocessable(f.name, "is required");
        // On create an absent field takes its default; a patch leaves it alone. (An array's
        // default is JSON: "[]", the one an array field may have.)
        if ((body & kCreate) && f.def && !in.has(f.name)) {
            if (f.type == Type::array) {
                in.list(f.name, {});
            } else {
                in.text(f.name, f.def);
            }
        }
    }
    r.finish();
    return in.done();
}

Input read_form(const Resource& res, const std::map<std::string, std::string>& form,
                unsigned body) {
    InputBuilder in(res);
    for (const Field& f : res.fields) {
        if (!(f.use & body)) continue;
        auto it = form.find(f.name);
        if (it == form.end() || it->second.empty()) {
            // As in a JSON body: a required field must be there (an interview's voice answer
            // names its question_id), never met by a handler as an empty optional.
            if (f.required & body) throw core::ApiError::unprocessable(f.name, "is required");
            if (f.def) in.text(f.name, f.def);
            continue;
        }
        const std::string& v = it->second;
        if (f.type == Type::array)  // a form field is one string: no table puts an array there
            throw std::logic_error(std::string("read_form: an array field in a form: ") + f.name);
        if (f.type == Type::date) {
            in.text(f.name, date_or_422(v, f.name));
            continue;
        }
        if (f.type == Type::enumeration && !is_one_of(f, v))
            throw core::ApiError::unprocessable(f.name, one_of_message(f));
        if (f.type == Type::uuid) {
            in.text(f.name, uuid_or_422(v, f.name));
            continue;
        }
        if (f.max > 0 && core::utf8_length(v) > static_cast<size_t>(f.max))
            throw core::ApiError::unprocessable(
                f.name, "must be at most " + std::to_string(f.max) + " characters");
        in.text(f.name, v);
    }
    return in.done();
}

std::vector<std::string_view> body_fields(const Resource& res, unsigned body) {
    std::vector<std::string_view> out;
    for (const Field& f : res.fields)
        if (f.use & body) out.emplace_back(f.name);
    return out;
}

Input read_filters(const Resource& res, const fcgi::Request& req) {
    InputBuilder in(res);
    for (const Field& f : res.fields) {
        if (!(f.use & kFilter)) continue;
        auto q = req.query.get(f.name);
        if (!q) continue;
        std::string v(*q);
        if (f.token && v == f.token) {
            in.text(f.name, std::move(v));
            continue;
        }
        if (f.type == Type::enumeration && !is_one_of(f, v))
            throw core::ApiError::bad_request("unknown value", f.name);
        if (f.type == Type::uuid && !core::normalise_uuid(v))
            throw core::ApiError::bad_request("must be a UUID", f.name);
        if (f.type == Type::timestamp) v = rfc3339_or_throw(v, f.name);
        if (f.type == Type::date && !is_calendar_date(v))
            throw core::ApiError::bad_request(kDateMessage, f.name);
        if (is_string(f.type) && f.max > 0 && core::utf8_length(v) > static_cast<size_t>(f.max))
            throw core::ApiError::bad_request(
                "must be at most " + std::to_string(f.max) + " characters", f.name);
        in.text(f.name, std::move(v));
    }
    return in.done();
}

Page read_page(const fcgi::Request& req) {
    Page p;
    p.limit = core::limit_or_throw(req.query);
    if (auto c = req.query.get("cursor")) std::tie(p.key, p.id) = decode_cursor_or_throw(*c);
    return p;
}

// ---------------------------------------------------------------------------------------------
// Output

void write_fields(core::JsonWriter& w, const Resource& res, const void* record) {
    for (const Field& f : res.fields) {
        if (!(f.use & kOut) || !f.get) continue;
        Value v = f.get(record);
        w.key(f.name);
        switch (v.kind) {
            case Value::null:
                w.null();
                break;
            case Value::text:
                f.type == Type::object || f.type == Type::array ? w.raw(v.s) : w.value(v.s);
                break;
            case Value::integer:
                w.value(v.i);
                break;
            case Value::number:
                w.raw(core::fixed3(v.d));
                break;
            case Value::boolean:
                w.value(v.i != 0);
                break;
            case Value::list:
                w.begin_array();
                for (const std::string& item : *v.items) w.value(item);
                w.end_array();
                break;
        }
    }
}

void write_cursor(core::JsonWriter& w, const Resource& res, const void* last) {
    if (!last) {
        w.null();
        return;
    }
    w.value(encode_cursor(std::string(res.cursor_key(last).s), std::string(res.cursor_id(last).s)));
}

// ---------------------------------------------------------------------------------------------
// OpenAPI

namespace {

enum class Context { output, body, filter, form };

// A counted Type::object ({status: n}): integer values within [min, max], keys from values.
void write_counts_schema(core::JsonWriter& w, const Field& f) {
    w.begin_object().field("type", "object");
    w.key("additionalProperties").begin_object().field("type", "integer");
    if (f.max > f.min) w.field("minimum", f.min).field("maximum", f.max);
    w.end_object();
    w.key("propertyNames").begin_object().key("enum").begin_array();
    for (const char* v : f.values) w.value(v);
    w.end_array().end_object();
    if (*f.description) w.field("description", f.description);
    w.end_object();
}

void write_field_schema(core::JsonWriter& w, const Field& f, Context c, unsigned body = 0) {
    if (f.type == Type::object && f.ref) {
        w.begin_object().field("$ref", std::string("#/components/schemas/") + f.ref).end_object();
        return;
    }
    if (f.type == Type::object && !f.values.empty()) {
        write_counts_schema(w, f);
        return;
    }
    // A filter's extra word ("me") is a value the type's schema would refuse.
    if (f.token && c == Context::filter) {
        Field plain = f;
        plain.token = nullptr;
        w.begin_object().key("anyOf").begin_array();
        write_field_schema(w, plain, c, body);
        w.begin_object().field("const", f.token).end_object().end_array().end_object();
        return;
    }
    w.begin_object().key("type");
    bool nullable =
        (f.use & kNullable) &&
        (c == Context::output || (body & (kPatch | kBodyA | kBodyB | kBodyC | kBodyD | kBodyE)));
    if (nullable) {
        w.begin_array().value(json_type(f.type)).value("null").end_array();
    } else {
        w.value(json_type(f.type));
    }
    const char* format = f.format;
    if (f.type == Type::uuid) format = "uuid";
    if (f.type == Type::timestamp) format = "date-time";
    if (f.type == Type::date) format = "date";
    if (format) w.field("format", format);
    if (f.type == Type::array) {
        w.key("items").begin_object().field("type", "string");
        if (f.items == Type::uuid) w.field("format", "uuid");
        if (!f.values.empty()) {  // a set of these (see enumerated_set)
            w.key("enum").begin_array();
            for (const char* v : f.values) w.value(v);
            w.end_array();
        }
        if (f.items != Type::uuid && f.max > 0) {
            if (f.min > 0) w.field("minLength", f.min);
            w.field("maxLength", f.max);
        }
        w.end_object();
        if (f.min_items > 0) w.field("minItems", f.min_items);
        if (f.max_items > 0) w.field("maxItems", f.max_items);
    }
    if (!f.values.empty() && f.type != Type::array) {
        w.key("enum").begin_array();
        for (const char* v : f.values) w.value(v);
        w.end_array();
    }
    if (c != Context::output && is_string(f.type) && f.type != Type::uuid &&
        f.type != Type::enumeration && f.type != Type::date && f.max > 0) {
        if (f.min > 0) w.field("minLength", f.min);
        w.field("maxLength", f.max);
    }
    if (f.type != Type::array && !is_string(f.type) && f.max > f.min)
        w.field("minimum", f.min).field("maximum", f.max);
    // A default is what an absent field becomes on create; a patch leaves it alone instead.
    if (f.def && (c == Context::form || (c == Context::body && (body & kCreate)))) {
        if (f.type == Type::array) {
            w.key("default").raw(f.def);
        } else {
            w.field("default", f.def);
        }
    }
    // A query parameter carries its description itself, beside the schema.
    if (*f.description && c != Context::filter && c != Context::form)
        w.field("description", f.description);
    w.end_object();
}

// The parameters every list shares, and the few a route takes outside any resource.
struct SharedParam {
    const char* name;
    const char* schema;  // JSON
    const char* description;
};
constexpr SharedParam kShared[] = {
    {"limit", R"({"type":"integer","minimum":1,"maximum":100,"default":20})", "items per page"},
    {"cursor", R"({"type":"string"})", "the next_cursor of the previous page"},
    {"set_cookie", R"({"type":"boolean"})",
     "Also set the tokens as HttpOnly; Secure; SameSite=Strict cookies (rostrum_access, "
     "rostrum_refresh) plus a readable rostrum_csrf cookie. Cookie-authenticated unsafe "
     "requests must send X-CSRF-Token equal to rostrum_csrf."},
    {"format", R"({"type":"string","enum":["json","txt","srt","vtt"],"default":"json"})",
     "the transcript's format"},
};

}  // namespace

std::string output_schema(const Resource& res) {
    core::JsonWriter w;
    w.begin_object().field("type", "object").key("required").begin_array();
    for (const Field& f : res.fields)
        if ((f.use & kOut) && f.get && !(f.use & kNullable)) w.value(f.name);
    w.end_array().key("properties").begin_object();
    for (const Field& f : res.fields) {
        if (!(f.use & kOut)) continue;
        w.key(f.name);
        write_field_schema(w, f, Context::output);
    }
    w.end_object().end_object();
    return w.take();
}

std::string list_schema(const Resource& res) {
    core::JsonWriter w;
    w.begin_object().field("type", "object").key("required").begin_array();
    w.value("items").value("next_cursor").end_array().key("properties").begin_object();
    w.key("items").begin_object().field("type", "array").key("items").begin_object();
    w.field("$ref", std::string("#/components/schemas/") + res.schema).end_object().end_object();
    w.key("next_cursor").begin_object().key("type").begin_array().value("string").value("null");
    w.end_array().end_object().end_object().end_object();
    return w.take();
}

std::string body_schema(const Resource& res, const Body& b) {
    const unsigned body = b.bit;
    core::JsonWriter w;
    w.begin_object().field("type", "object").field("additionalProperties", false);
    w.key("required").begin_array();
    if (b.file) w.value(b.file);
    for (const Field& f : res.fields)
        if ((f.use & body) && (f.required & body)) w.value(f.name);
    w.end_array().key("properties").begin_object();
    if (b.file) w.key(b.file).raw(R"({"type":"string","format":"binary"})");
    for (const Field& f : res.fields) {
        if (!(f.use & body)) continue;
        w.key(f.name);
        write_field_schema(w, f, Context::body, body);
    }
    w.end_object().end_object();
    return w.take();
}

std::optional<std::string> query_parameter(const Resource* res, std::string_view name,
                                           bool filter) {
    core::JsonWriter w;
    w.begin_object().field("name", name).field("in", "query");
    for (const SharedParam& p : kShared) {
        if (name != p.name) continue;
        w.key("schema").raw(p.schema).field("description", p.description).end_object();
        return w.take();
    }
    const Field* f = res ? res->find(name) : nullptr;
    if (!f) return std::nullopt;
    w.key("schema");
    write_field_schema(w, *f, filter ? Context::filter : Context::form);
    if (*f->description) w.field("description", f->description);
    w.end_object();
    return w.take();
}

}  // namespace handlers

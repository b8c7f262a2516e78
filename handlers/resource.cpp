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
    void null(const char* name) { in_.nulls_.emplace_back(name); }
    bool has(const char* name) const { return in_.text_.count(name) || in_.bools_.count(name); }
    Input done() { return std::move(in_); }

  private:
    Input in_;
};

namespace {

// No bound given: any length a body may carry (the body limit bounds it anyway).
constexpr size_t kUnbounded = 1 << 20;

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

// Type::array: an array of strings, each one of f.values when the field has them (an error
// names the item: "tags[2]"), at most f.max items, duplicates dropped. Kept as the JSON text of
// the cleaned array; null clears a nullable one.
void read_json_array(core::ObjectReader& r, const cJSON* root, const Field& f, bool required,
                     InputBuilder& in) {
    const char* n = f.name;
    bool present = r.has(n);
    if (required && !present) throw core::ApiError::unprocessable(n, "is required");
    if (!present) return;
    const cJSON* a = cJSON_GetObjectItemCaseSensitive(root, n);
    if (cJSON_IsNull(a) && (f.use & kNullable)) {
        in.null(n);
        return;
    }
    if (!cJSON_IsArray(a)) throw core::ApiError::bad_request("must be an array of strings", n);
    if (f.max > 0 && cJSON_GetArraySize(a) > f.max)
        throw core::ApiError::unprocessable(
            n, "must have at most " + std::to_string(f.max) + " items");
    std::vector<std::string> items;
    int i = 0;
    for (const cJSON* c = a->child; c; c = c->next, ++i) {
        std::string item_name = std::string(n) + "[" + std::to_string(i) + "]";
        if (!cJSON_IsString(c)) throw core::ApiError::bad_request("must be a string", item_name);
        std::string v = c->valuestring;
        if (!f.values.empty() && !is_one_of(f, v))
            throw core::ApiError::unprocessable(item_name, one_of_message(f));
        if (std::find(items.begin(), items.end(), v) == items.end()) items.push_back(std::move(v));
    }
    core::JsonWriter w;
    w.begin_array();
    for (const auto& v : items) w.value(v);
    w.end_array();
    in.text(n, w.take());
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
        if (f.type == Type::array)
            read_json_array(r, root, f, f.required & body, in);
        else
            read_json_field(r, f, f.required & body, in);
        // On create an absent field takes its default; a patch leaves it alone.
        if ((body & kCreate) && f.def && !in.has(f.name)) in.text(f.name, f.def);
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
            if (f.def) in.text(f.name, f.def);
            continue;
        }
        const std::string& v = it->second;
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
        if (f.type == Type::enumeration && !is_one_of(f, v))
            throw core::ApiError::bad_request("unknown value", f.name);
        if (f.type == Type::uuid && !core::normalise_uuid(v))
            throw core::ApiError::bad_request("must be a UUID", f.name);
        if (f.type == Type::timestamp) v = rfc3339_or_throw(v, f.name);
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
                // object and array getters give rendered JSON
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

void write_field_schema(core::JsonWriter& w, const Field& f, Context c, unsigned body = 0) {
    if (f.type == Type::object && f.ref) {
        w.begin_object().field("$ref", std::string("#/components/schemas/") + f.ref).end_object();
        return;
    }
    w.begin_object().key("type");
    bool nullable = (f.use & kNullable) && (c == Context::output || (body & kPatch));
    if (nullable) {
        w.begin_array().value(json_type(f.type)).value("null").end_array();
    } else {
        w.value(json_type(f.type));
    }
    const char* format = f.format;
    if (f.type == Type::uuid) format = "uuid";
    if (f.type == Type::timestamp) format = "date-time";
    if (format) w.field("format", format);
    if (f.type == Type::array) {  // of strings, from f.values when it has them
        w.key("items").begin_object().field("type", "string");
        if (!f.values.empty()) {
            w.key("enum").begin_array();
            for (const char* v : f.values) w.value(v);
            w.end_array();
        }
        w.end_object();
        if (f.max > 0) w.field("maxItems", f.max);
    } else if (!f.values.empty()) {
        w.key("enum").begin_array();
        for (const char* v : f.values) w.value(v);
        w.end_array();
    }
    if (c != Context::output && is_string(f.type) && f.type != Type::uuid &&
        f.type != Type::enumeration && f.max > 0) {
        if (f.min > 0) w.field("minLength", f.min);
        w.field("maxLength", f.max);
    }
    if (!is_string(f.type) && f.type != Type::array && f.max > f.min)
        w.field("minimum", f.min).field("maximum", f.max);
    // A default is what an absent field becomes on create; a patch leaves it alone instead.
    if (f.def && (c == Context::form || (c == Context::body && (body & kCreate))))
        w.field("default", f.def);
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

// A resource described once: one constexpr table of its fields (JSON name = SQL result column,
// type, bounds, enum values, where it appears). From the table, generically: body validation
// with 422 field errors, list filters, keyset paging with the {items, next_cursor} envelope,
// the JSON a client sees, and the OpenAPI schemas and query parameters (handlers/openapi.cpp).
// Redis describes each command once and generates its table and docs; this is that idea for
// rows. See README "Adding a resource" for a worked example.
//
// The JSON is written here from the typed record (db::User, db::Session), not shaped by
// PostgreSQL (json_build_object): the worker and the live daemon need those typed records
// anyway, numbers keep their three-decimal spelling (core::fixed3), and a field's output, its
// validation and its documentation then come from the same row of the same table.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "fcgi/request.h"
#include "fcgi/response.h"

namespace handlers {

enum class Type : uint8_t {
    string,       // JSON string, bounds in characters (UTF-8 code points)
    text,         // a long string (same rules; documented without a format)
    integer,      // JSON integer, bounds are the value's
    number,       // JSON number, written with three decimals (core::fixed3)
    boolean,      // true / false
    uuid,         // a canonical UUID, lower-cased on input
    timestamp,    // RFC 3339 (output) or a date / RFC 3339 time (filters)
    enumeration,  // one of Field::values
    // Output: already-rendered JSON (from the getter, or written by the handler: see
    // Field::ref). In a body: an object whose keys are Field::values and whose values are
    // integers within [min, max] ({"todo": 3}); Input::str gives it as compact JSON.
    object,
    // Output: an already-rendered JSON array (from the getter). In a body: an array of at most
    // max_items `items` (Type::string with min/max characters each, or Type::uuid); an item's
    // error names it "field[i]"; Input::list gives the items.
    array,
};

// Where a field appears. Body bits (kCreate, kPatch, kBodyA, kBodyB) name the request bodies
// it may be sent in; a resource names its bodies (users: kBodyA is the registration).
enum Use : unsigned {
    kOut = 1,         // in the resource's JSON
    kCreate = 2,      // accepted in the create body (or upload form)
    kPatch = 4,       // accepted in the update body
    kBodyA = 8,       // a resource's third body
    kBodyB = 16,      // a resource's fourth body
    kFilter = 32,     // a query parameter of its list route, named after the field
    kNullable = 64,   // null is a value (output: may be null; patch: null clears it)
    kStoredOnly = 0,  // neither: the handler reads it from the record (audio_path, user_id)
};
inline constexpr unsigned kBodies = kCreate | kPatch | kBodyA | kBodyB;

// A field's value as read from a record, without copying it.
struct Value {
    enum Kind : uint8_t { null, text, integer, number, boolean } kind = null;
    std::string_view s;
    int64_t i = 0;
    double d = 0;
    Value() = default;
    Value(const std::string& v) : kind(text), s(v) {}
    // (Not `v ? *v : ""`: that makes a temporary std::string for the view to dangle into.)
    Value(const std::optional<std::string>& v)
        : kind(v ? text : null), s(v ? std::string_view(*v) : std::string_view()) {}
    Value(int64_t v) : kind(integer), i(v) {}
    Value(double v) : kind(number), d(v) {}
    Value(const std::optional<double>& v) : kind(v ? number : null), d(v.value_or(0)) {}
    Value(bool v) : kind(boolean), i(v) {}
};
using Getter = Value (*)(const void* record);

// One field. Designated initializers keep a table row readable: {.name = "title", ...}.
struct Field {
    const char* name;
    Type type;
    unsigned use = 0;
    Getter get = nullptr;  // reads it from the record for output; nullptr: the handler writes it
    int64_t min = 0, max = 0;  // characters for strings; values for numbers; 0/0 = unbounded
    std::span<const char* const> values = {};  // Type::enumeration
    const char* description = "";
    unsigned required = 0;         // body bits in which it must be present
    const char* def = nullptr;     // what an absent field becomes on create (body or form)
    const char* format = nullptr;  // OpenAPI format when the type does not say it (email)
    const char* ref = nullptr;     // Type::object: the component schema it follows
    // A field's own rule on top of its bounds (email: lower-cased, one '@'); throws 422.
    std::string (*normalise)(std::string_view) = nullptr;
    Type items = Type::string;  // Type::array: its items' type (string or uuid)
    int64_t max_items = 0;      // Type::array: the most items (0 = unbounded)
};

// Reads member `m` of the record type `Rec` (declared with `using Rec = ...;` before a table).
#define FIELD_GET(m) \
    [](const void* p) -> ::handlers::Value { return static_cast<const Rec*>(p)->m; }

// A request body a resource takes, and its OpenAPI component name.
struct Body {
    unsigned bit;
    const char* schema;
    const char* file = nullptr;  // a multipart body's required file part (an upload's "file")
};

struct Resource {
    const char* schema;  // OpenAPI component: "User" (its list is "UserList")
    std::span<const Field> fields;
    std::span<const Body> bodies = {};
    Getter cursor_key = nullptr;  // keyset paging: (cursor_key, cursor_id), newest first
    Getter cursor_id = nullptr;
    const Field* find(std::string_view name) const;
};

// A validated body or query: the fields it had, as text (strings, uuids, enums, timestamps,
// integers) or booleans. Asking for a name the resource does not declare is a bug (throws).
class Input {
  public:
    std::optional<std::string> str(const char* name) const;
    std::optional<bool> boolean(const char* name) const;
    std::optional<std::vector<std::string>> list(const char* name) const;  // a Type::array
    bool is_null(const char* name) const;  // sent as JSON null (a kNullable patch field)
    std::string take(const char* name) { return std::move(text_.at(name)); }  // a required one

  private:
    friend class InputBuilder;
    const Resource* res_ = nullptr;
    std::map<std::string, std::string, std::less<>> text_;
    std::map<std::string, bool, std::less<>> bools_;
    std::map<std::string, std::vector<std::string>, std::less<>> lists_;
    std::vector<std::string> nulls_;
};

// The JSON body's fields that `body` (one body bit) accepts; any other key → 400 "unknown
// field"; bounds and enums → 422 naming the field, with the messages core::ObjectReader uses.
Input read_body(const Resource& res, const cJSON* root, unsigned body);
// The same for text fields (an upload's form or query): empty means absent, defaults apply.
Input read_form(const Resource& res, const std::map<std::string, std::string>& form, unsigned body);
// Names of the fields `body` accepts, in table order.
std::vector<std::string_view> body_fields(const Resource& res, unsigned body);

// The list query: the kFilter fields, checked by type (400 naming the parameter), then limit
// (1..100, default 20) and cursor. Unknown parameters were refused by the route's row.
struct Page {
    int limit = 20;
    std::optional<std::string> key, id;  // from the cursor
};
Input read_filters(const Resource& res, const fcgi::Request& req);
Page read_page(const fcgi::Request& req);

// The record's kOut fields with a getter, as members of the object being written (the caller
// opens and closes it, so that it can add fields like a session's transcript).
void write_fields(core::JsonWriter& w, const Resource& res, const void* record);
template <class T>
std::string to_json(const Resource& res, const T& record) {
    core::JsonWriter w;
    w.begin_object();
    write_fields(w, res, &record);
    w.end_object();
    return w.take();
}

// null, or the cursor that continues after `last` (a record of res's type).
void write_cursor(core::JsonWriter& w, const Resource& res, const void* last);

// {items, next_cursor}: `rows` holds up to limit + 1 records (the extra one says there is a
// next page and is dropped).
template <class T>
fcgi::Response list_response(const Resource& res, std::vector<T>& rows, int limit) {
    bool more = static_cast<int>(rows.size()) > limit;
    if (more) rows.pop_back();
    core::JsonWriter w;
    w.begin_object().key("items").begin_array();
    for (const T& r : rows) {
        w.begin_object();
        write_fields(w, res, &r);
        w.end_object();
    }
    w.end_array().key("next_cursor");
    write_cursor(w, res, more ? &rows.back() : nullptr);
    w.end_object();
    return fcgi::Response::json(200, w.take());
}

// OpenAPI: the schema of the resource's output, of one of its bodies, and of a query
// parameter a route names (a field of `res`, or limit, cursor, set_cookie, format; `filter`
// for a GET's, else an input like an upload's). The parameter is nullopt when nobody
// declares the name.
std::string output_schema(const Resource& res);
std::string list_schema(const Resource& res);
std::string body_schema(const Resource& res, const Body& body);
std::optional<std::string> query_parameter(const Resource* res, std::string_view name, bool filter);

}  // namespace handlers

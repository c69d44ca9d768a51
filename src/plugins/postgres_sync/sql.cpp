// The SQL text of postgresSync (see sql.hpp). The trigger bodies are written so that no row,
// however large, can make the user's statement fail: the durable one stores the change in a
// jsonb column (no 8000-byte limit) and notifies with an empty payload; the notify one checks
// the payload size before calling pg_notify and falls back to the primary key.
#include "plugins/postgres_sync/sql.hpp"

namespace forrealtime::pg {

std::optional<std::string> check_identifier(std::string_view what, std::string_view name,
                                            std::size_t max) {
  auto bad = [&](std::string why) {
    return std::string(what) + " '" + std::string(name.substr(0, 80)) + "' " + why;
  };
  if (name.empty()) return std::string(what) + " is empty";
  if (name.size() > max) return bad("is longer than " + std::to_string(max) + " characters");
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!alpha(name[0])) return bad("must start with a letter or '_' (^[A-Za-z_][A-Za-z0-9_]*$)");
  for (char c : name)
    if (!alpha(c) && !digit(c))
      return bad("may hold only letters, digits and '_' (^[A-Za-z_][A-Za-z0-9_]*$)");
  return std::nullopt;
}

std::string quote(std::string_view n) {
  return "\"" + std::string(n) + "\"";
}

namespace {

std::string function_name(std::string_view schema, const std::string& table) {
  return quote(schema) + "." + quote("forrealtime_" + table + "_notify");
}

std::string trigger_sql(std::string_view schema, const std::string& table) {
  // CREATE OR REPLACE TRIGGER needs PostgreSQL 14.
  return "CREATE OR REPLACE TRIGGER " + quote("forrealtime_" + table + "_trigger") +
         " AFTER INSERT OR UPDATE OR DELETE ON " + quote(schema) + "." + quote(table) +
         " FOR EACH ROW EXECUTE FUNCTION " + function_name(schema, table) + "();\n";
}

}  // namespace

std::string install_durable_sql(std::string_view schema, const std::vector<std::string>& tables) {
  std::string out = "CREATE TABLE IF NOT EXISTS " + quote(schema) +
                    ".forrealtime_outbox (\n"
                    "  id bigserial PRIMARY KEY,\n"
                    "  tbl text NOT NULL,\n"
                    "  op text NOT NULL,\n"
                    "  payload jsonb NOT NULL,\n"
                    "  created_at timestamptz NOT NULL DEFAULT now());\n";
  for (auto& t : tables) {
    out += "CREATE OR REPLACE FUNCTION " + function_name(schema, t) +
           "() RETURNS trigger LANGUAGE plpgsql AS $forrealtime$\n"
           "BEGIN\n"
           "  INSERT INTO " +
           quote(schema) +
           ".forrealtime_outbox (tbl, op, payload) VALUES (\n"
           "    TG_TABLE_NAME, TG_OP, jsonb_build_object('table', TG_TABLE_NAME, 'op', TG_OP,\n"
           "      'new', CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(NEW) END,\n"
           "      'old', CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(OLD) END));\n"
           "  -- A wake-up only: an empty payload can never pass the 8000-byte limit, and\n"
           "  -- identical notifications of one transaction are folded into one.\n"
           "  PERFORM pg_notify('forrealtime_outbox', '');\n"
           "  RETURN NULL;\n"
           "END $forrealtime$;\n";
    out += trigger_sql(schema, t);
  }
  return out;
}

std::string install_notify_sql(std::string_view schema, const std::vector<std::string>& tables) {
  std::string out;
  for (auto& t : tables) {
    out += "CREATE OR REPLACE FUNCTION " + function_name(schema, t) +
           "() RETURNS trigger LANGUAGE plpgsql AS $forrealtime$\n"
           "DECLARE\n"
           "  payload text;\n"
           "  pk jsonb;\n"
           "BEGIN\n"
           "  payload := json_build_object('table', TG_TABLE_NAME, 'op', TG_OP,\n"
           "    'new', CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE row_to_json(NEW) END,\n"
           "    'old', CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE row_to_json(OLD) END)::text;\n"
           "  -- pg_notify raises beyond 7999 bytes, which would abort the user's statement:\n"
           "  -- send the primary key instead (or nothing but the marker).\n"
           "  IF octet_length(payload) >= 7900 THEN\n"
           "    SELECT jsonb_object_agg(a.attname,\n"
           "             (CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END)\n"
           "               -> a.attname::text)\n"
           "      INTO pk\n"
           "      FROM pg_index i\n"
           "      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)\n"
           "      WHERE i.indrelid = TG_RELID AND i.indisprimary;\n"
           "    payload := json_build_object('table', TG_TABLE_NAME, 'op', TG_OP,\n"
           "      'new', CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE pk END,\n"
           "      'old', CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE pk END,\n"
           "      'truncated', true)::text;\n"
           "    IF octet_length(payload) >= 7900 THEN\n"
           "      payload := json_build_object('table', TG_TABLE_NAME, 'op', TG_OP,\n"
           "        'new', NULL, 'old', NULL, 'truncated', true)::text;\n"
           "    END IF;\n"
           "  END IF;\n"
           "  PERFORM pg_notify('forrealtime_' || TG_TABLE_NAME, payload);\n"
           "  RETURN NULL;\n"
           "END $forrealtime$;\n";
    out += trigger_sql(schema, t);
  }
  return out;
}

std::string listen_sql(bool durable, const std::vector<std::string>& tables) {
  std::string out;
  if (durable) out += "LISTEN forrealtime_outbox;\n";
  for (auto& t : tables) out += "LISTEN " + quote("forrealtime_" + t) + ";\n";
  return out;
}

std::string select_outbox_sql(std::string_view schema) {
  // The third column, the age of each row in seconds, is the outbox lag (Stats).
  return "SELECT id, payload::text, "
         "EXTRACT(EPOCH FROM clock_timestamp() - created_at)::float8 FROM " +
         quote(schema) +
         ".forrealtime_outbox WHERE tbl = ANY($1::text[]) ORDER BY id LIMIT $2::int";
}

std::string delete_outbox_sql(std::string_view schema) {
  return "DELETE FROM " + quote(schema) + ".forrealtime_outbox WHERE id = ANY($1::bigint[])";
}

std::string array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += items[i];
  }
  return out + "}";
}

}  // namespace forrealtime::pg

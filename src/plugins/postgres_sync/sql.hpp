// The SQL text of postgresSync: identifier checks and the statements built from checked names.
// Pure functions, no I/O. Only names that passed `check_identifier` are ever placed into SQL
// text (always double-quoted); every value goes through PQexecParams parameters.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace forrealtime::pg {

/** The longest table name: "forrealtime_" + name + "_trigger" must fit in 63 bytes. */
constexpr std::size_t kMaxTableName = 43;

/** Nothing when `name` matches ^[A-Za-z_][A-Za-z0-9_]*$ and is at most `max` bytes. */
std::optional<std::string> check_identifier(std::string_view what, std::string_view name,
                                            std::size_t max = 63);

/** `"name"`: only for names that passed check_identifier. */
std::string quote(std::string_view checked_name);

/** Durable mode: the outbox table, the wake-up trigger function and trigger of each table. */
std::string install_durable_sql(std::string_view schema, const std::vector<std::string>& tables);
/** Notify mode: pg_notify of the full change, or of its primary key beyond 8000 bytes. */
std::string install_notify_sql(std::string_view schema, const std::vector<std::string>& tables);

/** LISTEN on the outbox wake-up channel (durable) and on forrealtime_<table> (both modes). */
std::string listen_sql(bool durable, const std::vector<std::string>& tables);

/** $1 = text[] of table names, $2 = limit: the oldest remaining outbox rows of our tables. */
std::string select_outbox_sql(std::string_view schema);
/** $1 = bigint[] of outbox ids. */
std::string delete_outbox_sql(std::string_view schema);

/** A PostgreSQL array literal of checked names or integers: {a,b,c}. */
std::string array_literal(const std::vector<std::string>& items);

constexpr std::string_view kOutboxChannel = "forrealtime_outbox";

}  // namespace forrealtime::pg

#!/usr/bin/env bash
# `forrealtime check-config` and `print-config` on good and bad files: exit codes, the reason
# given, precedence (flags > environment > file) and secrets masked.
set -uo pipefail
bin=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
failures=0
unset HOST PORT REDIS_URL LOG_LEVEL LOG_FORMAT DATABASE_URL $(compgen -e | grep '^FORREALTIME_')
check() {  # check NAME EXPECTED_RC EXPECTED_OUTPUT_REGEX COMMAND...
  local name=$1 want_rc=$2 want=$3
  shift 3
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" != "$want_rc" ] || ! grep -Eq -- "$want" <<<"$out"; then
    echo "FAIL $name: exit $rc (want $want_rc), output: $out (want /$want/)"
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}
root=$(cd "$(dirname "$0")/../.." && pwd)

check "the packaged config is good" 0 ": ok" "$bin" check-config "$root/packaging/config.json"
cat >"$dir/good.json" <<'J'
{"host": "0.0.0.0", "port": 9000, "emit_token": "s3cret", "redis": "redis://u:hunter2@db:6379/0",
 "history_max_length": 10, "log_format": "json"}
J
check "a full good file" 0 "good.json: ok" "$bin" check-config "$dir/good.json"
check "--config works like the argument" 0 ": ok" "$bin" check-config --config "$dir/good.json"
check "FORREALTIME_CONFIG works too" 0 ": ok" env FORREALTIME_CONFIG="$dir/good.json" "$bin" check-config
check "no file: the defaults are good" 0 "settings: ok" "$bin" check-config

echo '{"port": 8787,' >"$dir/truncated.json"
check "malformed JSON" 2 "not a JSON object" "$bin" check-config "$dir/truncated.json"
echo '{"prot": 8787}' >"$dir/typo.json"
check "an unknown key" 2 "unknown config key 'prot'" "$bin" check-config "$dir/typo.json"
echo '{"history": {"max_len": 1}}' >"$dir/typo2.json"
check "an unknown nested key" 2 "unknown config key history.max_len" "$bin" check-config "$dir/typo2.json"
echo '{"history": {"max_length": 5}, "max_duration_secs": 9}' >"$dir/old.json"
check "older config keys still work, with a deprecation warning" 0 "history.max_length is deprecated: use history_max_length" "$bin" check-config "$dir/old.json"
check "older and newer name of one option together are refused" 2 "given twice" \
  sh -c "echo '{\"max_duration_secs\": 1, \"max_duration\": 2}' >'$dir/both.json' && '$bin' check-config '$dir/both.json'"
echo '{"port": "8787"}' >"$dir/type.json"
check "a wrong type" 2 "wrong type" "$bin" check-config "$dir/type.json"
echo '{"port": 70000}' >"$dir/range.json"
check "a port out of range" 2 "port must be 0-65535" "$bin" check-config "$dir/range.json"
echo '{"log_level": "loud"}' >"$dir/level.json"
check "a bad log level" 2 "log_level must be" "$bin" check-config "$dir/level.json"
echo '{"redis": "http://x"}' >"$dir/redis.json"
check "a bad redis URL" 2 "redis must be a redis://" "$bin" check-config "$dir/redis.json"
echo '{"static": "/nonexistent/dir"}' >"$dir/static.json"
check "a missing static dir" 2 "not a directory" "$bin" check-config "$dir/static.json"
echo '{"schema": "/nonexistent/events.json"}' >"$dir/schema.json"
check "a missing schema file" 2 "--schema:" "$bin" check-config "$dir/schema.json"
echo '{"postgres": {"url": "postgresql://x/y", "tables": ["bad name"]}}' >"$dir/pg.json"
check "a bad postgres table" 2 "postgres:" "$bin" check-config "$dir/pg.json"
check "a missing file" 2 "cannot read config file" "$bin" check-config "$dir/none.json"
check "a flag over a good file can make it bad" 2 "port must be" "$bin" check-config "$dir/good.json" --port 99999
check "check-config does not start a server" 0 "ok" timeout 5 "$bin" check-config "$dir/good.json"

out=$("$bin" print-config --config "$dir/good.json" --port 9100 2>&1)
echo "print-config: $out"
for want in '"port":9100' '"host":"0.0.0.0"' '"emit_token":"\*\*\*"' \
  '"redis":"redis://u:\*\*\*@db:6379/0"' '"history_max_length":10' '"log_format":"json"'; do
  grep -Eq -- "$want" <<<"$out" || { echo "FAIL print-config lacks $want"; failures=$((failures + 1)); }
done
for secret in s3cret hunter2; do
  grep -q "$secret" <<<"$out" && { echo "FAIL print-config shows the secret $secret"; failures=$((failures + 1)); }
done
out=$(PORT=9200 FORREALTIME_EMIT_TOKEN=envtok "$bin" print-config --config "$dir/good.json")
grep -q '"port":9200' <<<"$out" || { echo "FAIL PORT does not override the file: $out"; failures=$((failures + 1)); }
grep -q envtok <<<"$out" && { echo "FAIL the env token is shown"; failures=$((failures + 1)); }
echo '{"postgres": {"url": "host=db password=pgpass dbname=app", "tables": ["posts"]}}' >"$dir/pgkv.json"
out=$("$bin" print-config --config "$dir/pgkv.json")
grep -q pgpass <<<"$out" && { echo "FAIL the libpq password is shown: $out"; failures=$((failures + 1)); }
# What print-config prints is a config file check-config accepts (secrets aside).
"$bin" print-config --config "$dir/good.json" | sed 's/"\*\*\*"/"x"/g' >"$dir/printed.json"
check "print-config's output is a good config file" 0 ": ok" "$bin" check-config "$dir/printed.json"

[ "$failures" = 0 ] && echo "config tests: all passed"
[ "$failures" = 0 ]

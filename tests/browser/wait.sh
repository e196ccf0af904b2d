# Readiness waits for the browser tests' helper processes, sourced by tests/browser/*.sh and
# .ci/run. Each wait ends as soon as the process is ready, fails at once when the process has
# ended, and gives up after a generous limit (a fresh machine starts node and python slowly).
# The failure names the process and prints its log.

# wait_for_line PID FILE PATTERN NAME LOG [SECONDS]: until FILE has a line matching PATTERN.
wait_for_line() {
  local pid="$1" file="$2" pattern="$3" name="$4" log="$5" limit="${6:-90}" i
  for ((i = 0; i < limit * 10; i++)); do
    grep -q -- "$pattern" "$file" 2>/dev/null && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name ended before it was ready"
      cat "$log"
      return 1
    fi
    sleep 0.1
  done
  echo "$name did not start within $limit s"
  cat "$log"
  return 1
}

# wait_for_http PID URL NAME LOG [SECONDS]: until URL answers with a 2xx status.
wait_for_http() {
  local pid="$1" url="$2" name="$3" log="$4" limit="${5:-90}" i
  for ((i = 0; i < limit * 5; i++)); do
    curl -fs "$url" > /dev/null 2>&1 && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name ended before it was ready"
      tail -50 "$log"
      return 1
    fi
    sleep 0.2
  done
  echo "$name did not answer $url within $limit s"
  tail -50 "$log"
  return 1
}

# Shared by the public-suite runners (sourced, not run): start and stop one `sluice start`.
# The caller sets REPO (the Sluice repository) and defines die().

SLUICE_MAIN="$REPO/packages/cli/dist/src/main.js"
SLUICE_PID=
SLUICE_PORT=
SLUICE_DATA=

# sluice_build: compile the repository (tsc -b; quick when nothing changed).
sluice_build() {
  echo "building Sluice (tsc -b) in $REPO"
  (cd "$REPO" && npx --no-install tsc -b) || die "the Sluice build failed (has npm install run in $REPO?)"
  [[ -f $SLUICE_MAIN ]] || die "$SLUICE_MAIN is missing after the build"
}

# sluice_start <log-file> <start-args...>: starts `sluice start <start-args>` with a new data
# directory (removed by sluice_stop), waits until it listens, sets SLUICE_PID and SLUICE_PORT (the
# advertised port).
sluice_start() {
  local log=$1; shift
  [[ -f $SLUICE_MAIN ]] || die "$SLUICE_MAIN is missing: run npm install in $REPO"
  SLUICE_DATA=$(mktemp -d /tmp/sluice-suite-data.XXXXXX)
  echo "# sluice start --data-dir $SLUICE_DATA $*" >>"$log"
  local from
  from=$(wc -l <"$log")   # the log may hold earlier brokers' lines: read only this one's
  node "$SLUICE_MAIN" start --data-dir "$SLUICE_DATA" "$@" >>"$log" 2>&1 &
  SLUICE_PID=$!
  SLUICE_PORT=
  local _
  for _ in $(seq 1 300); do
    SLUICE_PORT=$(tail -n +"$((from + 1))" "$log" | sed -n 's/.* advertised as .*:\([0-9][0-9]*\), data in .*/\1/p' | tail -1)
    [[ -n $SLUICE_PORT ]] && return 0
    if ! kill -0 "$SLUICE_PID" 2>/dev/null; then
      tail -20 "$log" >&2
      SLUICE_PID=
      die "sluice start exited (log: $log)"
    fi
    sleep 0.1
  done
  die "sluice start did not report that it listens within 30 s (log: $log)"
}

# sluice_alive: whether the broker started by sluice_start still runs.
sluice_alive() { [[ -n $SLUICE_PID ]] && kill -0 "$SLUICE_PID" 2>/dev/null; }

# sluice_stop: SIGTERM (a clean shutdown), SIGKILL after 10 s; removes the data directory.
sluice_stop() {
  if [[ -n $SLUICE_PID ]]; then
    if kill -0 "$SLUICE_PID" 2>/dev/null; then
      kill -TERM "$SLUICE_PID" 2>/dev/null || true
      local _
      for _ in $(seq 1 100); do kill -0 "$SLUICE_PID" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$SLUICE_PID" 2>/dev/null; then
        echo "the broker did not stop within 10 s of SIGTERM; killing it" >&2
        kill -KILL "$SLUICE_PID" 2>/dev/null || true
      fi
    fi
    wait "$SLUICE_PID" 2>/dev/null || true
    SLUICE_PID=
  fi
  if [[ -n $SLUICE_DATA ]]; then
    rm -rf "$SLUICE_DATA"
    SLUICE_DATA=
  fi
}

#!/bin/sh
# run.sh [options] CMD...: boots the runts guest, runs CMD inside, returns its output and exit code.
# See run.mjs for the options (--user rootless, --timeout S, --boot-timeout S, --cpus N, --mem MiB).
exec node "$(dirname "$0")/run.mjs" "$@"

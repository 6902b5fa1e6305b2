# Sourced by the manage_scripts entry points: make sure the virtualenv and its
# packages exist (installing what is missing), then run from the repository root.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

die() { echo "error: $*" >&2; exit 1; }

apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    die "missing $*: install with: sudo apt-get install -y $*"
  fi
  echo "[setup] installing $* (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

PYTHON_BIN="${PYTHON_BIN:-python3}"
command -v "$PYTHON_BIN" >/dev/null || apt_install python3 python3-venv
"$PYTHON_BIN" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "Python 3.11+ is required ($PYTHON_BIN is $("$PYTHON_BIN" -V 2>&1))"

requirements="requirements/${REQUIREMENTS:-test}.txt"
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv"
  "$PYTHON_BIN" -m venv .venv 2>/dev/null || { apt_install python3-venv; "$PYTHON_BIN" -m venv .venv; }
fi
# Reinstall only when the pinned requirements change.
stamp=".venv/.requirements-$(cat requirements/*.txt | sha256sum | cut -c1-16)"
if [ ! -e "$stamp" ]; then
  echo "[setup] installing Python packages from $requirements"
  # uv installs the same pinned wheels as pip, many times faster on a fresh machine.
  .venv/bin/python -m pip install -q "uv==0.13.8"
  .venv/bin/python -m uv pip install -q --native-tls --python .venv/bin/python -r "$requirements"
  rm -f .venv/.requirements-* && touch "$stamp"
fi
export PATH="$ROOT/.venv/bin:$PATH"

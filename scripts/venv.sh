# Sourced by scripts/serve, scripts/test and .ci/run: makes sure ./.venv exists and has pip.
#
# A fresh Debian ships python3 without ensurepip (package python3-venv). As root we install
# it; otherwise we make the venv without pip and bootstrap pip from a wheel fetched from the
# package index, so no step needs root.

venv_python=".venv/bin/python"

ensure_venv() {
    if [ -x "$venv_python" ] && "$venv_python" -m pip --version >/dev/null 2>&1; then
        return 0
    fi
    local python="${PYTHON:-python3}"
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "NeuralLog needs Python 3.11 or newer as '$python' (set PYTHON=...)." >&2
        return 1
    fi
    rm -rf .venv
    if "$python" -m venv .venv >/dev/null 2>&1; then
        return 0
    fi
    rm -rf .venv
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing Debian's python3-venv ..." >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        "$python" -m venv .venv
        return 0
    fi
    echo "ensurepip is missing; bootstrapping pip into .venv from the package index ..." >&2
    "$python" -m venv --without-pip .venv
    "$venv_python" - <<'PY'
import json, os, tempfile, urllib.request, runpy, sys
index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")
req = urllib.request.Request(f"{index}/pip/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
with urllib.request.urlopen(req, timeout=60) as response:
    files = json.load(response)["files"]
wheel = [f for f in files if f["filename"].endswith("-py3-none-any.whl") and not f.get("yanked")][-1]
target = os.path.join(tempfile.mkdtemp(), wheel["filename"])
urllib.request.urlretrieve(wheel["url"], target)
sys.argv = ["pip", "install", "--quiet", target]
sys.path.insert(0, target)
runpy.run_module("pip", run_name="__main__")
PY
}

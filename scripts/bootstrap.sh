# Sourced by scripts/test and scripts/run: creates .venv and installs the project with its dev
# extras, re-installing only when pyproject.toml changed since the last install.
set -euo pipefail
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
python_bin=${WINDOWKEEPER_PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv with $($python_bin --version)"
    "$python_bin" -m venv .venv
fi
stamp=.venv/.windowkeeper-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "==> installing windowkeeper and its dev dependencies into .venv"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e '.[dev]'
    touch "$stamp"
fi
export PATH="$repo_root/.venv/bin:$PATH"

#!/usr/bin/env bash
# Set up everything netdraw needs, then run one job:
#   bash scripts/dev.sh gallery   # render gallery/ from the built-in zoo (the main job)
#   bash scripts/dev.sh test      # lint and run the whole test suite
# It creates .venv/ at the repository root, installs the Python packages (torch pinned in
# constraints.txt) and, when run as root, the Debian packages it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

JOB="${1:-}"
case "$JOB" in
  gallery|test) ;;
  *) echo "usage: bash scripts/dev.sh gallery|test" >&2; exit 2 ;;
esac

# Debian packages: command that proves it is there -> package(s) that bring it.
declare -A NEED=(
  [dot]="graphviz"
  [pdflatex]="texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-pictures"
  [pdftoppm]="poppler-utils"
  [chromium]="chromium"
  [npm]="npm"
  [rsvg-convert]="librsvg2-bin"  # SVG figures in a Sphinx LaTeX build (netdraw.sphinx)
)
missing=()
for cmd in "${!NEED[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=(${NEED[$cmd]})
done
# Graphviz sizes boxes for Helvetica's widths (the HTML preview's WebAssembly build always
# does): a metric-compatible font keeps labels inside their boxes in Chromium and in dot.
if ! { command -v fc-match >/dev/null 2>&1 && fc-match -f '%{family}' Helvetica | grep -q Liberation; }; then
  missing+=(fonts-liberation2)
fi
if [ "$JOB" = gallery ]; then  # the gallery itself needs Graphviz and LaTeX, not a browser
  missing=($(printf '%s\n' "${missing[@]}" | grep -v '^chromium$' || true))
fi
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" fonts-dejavu-core >/dev/null
  else
    echo "netdraw: error: missing system packages: ${missing[*]}" >&2
    echo "  install them as root:  sudo apt-get install ${missing[*]}" >&2
    exit 2
  fi
fi

# Browser libraries that the HTML preview embeds in every page (package.json pins them;
# never copied into the repository), reinstalled only when package-lock.json changes.
npm_stamp="node_modules/.netdraw-installed"
npm_want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f "$npm_stamp" ] || [ "$(cat "$npm_stamp")" != "$npm_want" ]; then
  echo "== installing browser libraries into node_modules (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$npm_want" > "$npm_stamp"
fi

# Python: a venv with netdraw in editable mode, reinstalled only when the requirements change.
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "$PY" -m venv .venv
fi
stamp=".venv/.netdraw-installed"
want="$(cat pyproject.toml setup.py constraints.txt | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "== installing Python packages into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -c constraints.txt -e ".[all,test,docs]"
  echo "$want" > "$stamp"
fi

export KERAS_BACKEND=torch
case "$JOB" in
  gallery)
    .venv/bin/netdraw gallery -o gallery
    ;;
  test)
    .venv/bin/ruff check netdraw tests benchmarks
    # The documentation, warnings as errors (figures are cached in docs/_build).
    .venv/bin/python -m sphinx -W --keep-going -q -b html docs docs/_build/html
    # One worker per core (pytest-xdist); a test file stays on one worker, so its module
    # fixtures (a browser, a built model) are made once and tests that share state run together.
    .venv/bin/python -m pytest -q -p no:cacheprovider -n auto --dist loadfile tests
    ;;
esac

#!/usr/bin/env bash
# Rebuilds the dashboard and fails if the committed static/ differs from the fresh build.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund
npm run build
cd ..
if ! git diff --quiet -- static || [ -n "$(git status --porcelain -- static)" ]; then
  echo "static/ is out of date: run 'cd frontend && npm ci && npm run build' and commit static/" >&2
  git status --short -- static >&2
  exit 1
fi
echo "static/ matches a fresh build"

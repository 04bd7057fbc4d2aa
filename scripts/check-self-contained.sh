#!/usr/bin/env bash
# Part of the test command: the repository stands on its own. Fails when a
# tracked file names the `shared/` folder beside the checkout or an absolute
# path into the checkout's parent folder (a user's clone has neither).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
parent="$(dirname "$PWD")"
# Built from pieces so that this script does not match itself.
beside="../""shared"
hits="$( { git grep -nIF -e "$beside" -- . ':!yarn.lock' ':!.yarn/releases' || true
           [[ "$parent" == / ]] || git grep -nIF -e "$parent/" -- . ':!yarn.lock' ':!.yarn/releases' || true; } |
         sort -u)"
if [[ -n "$hits" ]]; then
  echo "Tracked files point outside the repository ('$beside' or '$parent/'):" >&2
  echo "$hits" | cut -c1-200 >&2
  exit 1
fi
echo "no tracked file points outside the repository"

#!/usr/bin/env bash
# Prints the folder where the build tools the project compiles itself
# (versitygw, kubeconform, ko) are kept, and creates it.
#
# They are built with `go install` (minutes for versitygw), so they live
# outside the checkout, shared by every clone of the repository on this
# machine: a fresh clone, a CI copy and `make clean` do not rebuild them.
#
#   DTE_TOOLS_DIR   the folder (default ${XDG_CACHE_HOME:-$HOME/.cache}/dte-pipeline/bin)
set -euo pipefail

dir=${DTE_TOOLS_DIR:-${XDG_CACHE_HOME:-${HOME:?HOME is not set; set DTE_TOOLS_DIR}/.cache}/dte-pipeline/bin}
mkdir -p "$dir"
cd "$dir" && pwd

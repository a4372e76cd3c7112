// Package repocheck holds tests of the repository as a whole, run by make
// test: that it stands on its own (no tracked file points outside it, its
// Markdown links resolve inside it), and that the scripts behind the
// README's two commands behave: scripts/prereqs.sh reports and installs
// what is missing, scripts/fresh-copy.sh runs a command in a clean clone.
package repocheck

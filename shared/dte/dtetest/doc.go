// Package dtetest holds the helpers DTE tests share: one set of throwaway
// keys per test process (Shared, made by shared/localpki), wrappers that
// fail the test on error, and the checks by independent implementations,
// xmllint against the SII's schemas and xmlsec1 on signatures (NeedTool
// skips outside CI when a tool is missing, and fails under CI=true).
//
// Only tests import it: production binaries (the functions and the dte
// command) must not link it (TestNoTestHelpersInBinaries).
package dtetest

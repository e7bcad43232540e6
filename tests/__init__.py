"""The test suites: `unit/` (no server), `integration/` (real local servers), `e2e/`; `helpers/` holds support code."""

//! Workspace-level end-to-end tests for tierwise live in `tests/tests/`.

"""The pytest module the runner executes: one test per selected check."""

"""The browser journeys through the partner app, and what they saw, shared by every check."""

"""What the mock remembers and decides: its clock, registry, ledger of issued tokens, sessions, journal, faults and lease."""

"""The tokens the mock issued, every way they can be written down, and the partner's storage at rest."""

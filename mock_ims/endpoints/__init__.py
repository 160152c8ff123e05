"""The HTTP endpoints of the mock, one module per IMS concept."""

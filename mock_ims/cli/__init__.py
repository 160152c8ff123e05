"""The `mock-ims` command line: serve, demo, certificates and their help."""

"""The control plane: `/__admin/...`, JSON in and out."""

"""The control plane: the admin API, the dashboard and the OpenAPI document."""

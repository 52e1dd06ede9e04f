"""API plumbing shared by the open-data API: pagination, caching headers, errors."""

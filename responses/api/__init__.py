"""The open-data API of responses, departments and the site-wide statistics."""

"""We the People API v1 compatibility, served at /api/wtp/v1/ (PRODUCT.md section 7)."""

"""The public API of petitions (Agora's own /api/v1/ and the We the People v1 layer)."""

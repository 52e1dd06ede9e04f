"""Agora's database backends."""

from django.db import models


class Row(models.Model):
    """One inserted row: a couple of short strings, like a minimal signature."""

    name = models.CharField(max_length=100)
    email = models.CharField(max_length=254)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.email

"""Users: the email address is the login; staff roles are groups with permissions."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person with an account: a citizen, a petition creator or a member of staff.

    Staff roles (moderator, department officer, reviewer, publisher, administrator) are
    groups; ``accounts.roles`` keeps their permissions. Membership of departments comes
    from the responses app, through a membership table pointing here.
    """

    email = models.EmailField(_("email address"), max_length=254, unique=True)
    display_name = models.CharField(
        _("display name"),
        max_length=100,
        help_text=_("How your name appears to staff and in emails."),
    )
    preferred_language = models.CharField(
        _("preferred language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("The language of the emails we send you."),
    )
    notify_petition_updates = models.BooleanField(
        _("news about petitions I created"),
        default=True,
        help_text=_("Moderation decisions, thresholds reached, responses."),
    )
    notify_signed_petition_responses = models.BooleanField(
        _("responses to petitions I signed"),
        default=True,
        help_text=_("When the government responds to a petition you signed."),
    )
    is_staff = models.BooleanField(
        _("staff"),
        default=False,
        help_text=_("Can reach the staff back-office."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]
        permissions = [
            ("access_staff_area", _("Can reach the staff back-office")),
            ("moderate_petitions", _("Can moderate petitions")),
            ("draft_responses", _("Can draft responses")),
            ("review_responses", _("Can review responses")),
            ("publish_responses", _("Can publish responses")),
            ("administer_site", _("Can administer the site")),
        ]

    def __str__(self) -> str:
        return self.display_name or self.email

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name

    def clean(self) -> None:
        super().clean()
        self.email = type(self).objects.normalize_email(self.email)

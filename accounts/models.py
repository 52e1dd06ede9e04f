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


# --- Partner API keys -------------------------------------------------------------------


class PartnerKey(models.Model):
    """An API key given to a partner site (We the People API v1 clients, campaigns).

    Only the SHA-256 of the full key is stored: the key is shown once, when it is issued
    or rotated, and ``prefix`` (the key's first characters, not secret) lets staff and the
    partner recognise it. Rotating gives the same row a new secret, so the counts and the
    signatures it submitted stay with it. See ``accounts.partners``.
    """

    class Use(models.TextChoices):
        READ = "read", _("Read public data")
        SIGN = "sign", _("Read public data and submit signatures")

    name = models.CharField(_("partner"), max_length=120)
    contact_name = models.CharField(_("contact name"), max_length=120)
    contact_email = models.EmailField(_("contact email"), max_length=254)
    use = models.CharField(_("allowed use"), max_length=10, choices=Use.choices, default=Use.READ)
    description = models.TextField(
        _("what the key is for"),
        blank=True,
        help_text=_("The partner's site and what it does with the API, for the record."),
    )
    country = models.CharField(
        _("signers' country"),
        max_length=2,
        default="FR",
        help_text=_("Signatures from this partner carry no country: this one is used."),
    )
    monthly_write_quota = models.PositiveIntegerField(
        _("signatures per month"),
        default=10_000,
        help_text=_("Submitted signatures accepted per calendar month (UTC)."),
    )
    rate_limit_per_minute = models.PositiveIntegerField(_("requests per minute"), default=60)
    prefix = models.CharField(_("key prefix"), max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("issued"), auto_now_add=True)
    rotated_at = models.DateTimeField(_("rotated"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("partner key")
        verbose_name_plural = _("partner keys")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def can_sign(self) -> bool:
        return self.is_active and self.use == self.Use.SIGN


class PartnerUsage(models.Model):
    """One key's requests in one calendar month (UTC): one row, bumped by UPDATE ... F().

    The write quota is claimed by a conditional UPDATE (``writes < quota``), so two
    requests racing for the last unit of quota cannot both pass.
    """

    key = models.ForeignKey(PartnerKey, on_delete=models.CASCADE, related_name="usage")
    month = models.DateField(_("month"))
    reads = models.PositiveIntegerField(_("read requests"), default=0)
    writes = models.PositiveIntegerField(_("signatures submitted"), default=0)
    refused = models.PositiveIntegerField(_("requests refused (quota)"), default=0)
    quota_reached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("partner usage")
        verbose_name_plural = _("partner usage")
        ordering = ["key", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["key", "month"], name="accounts_partner_usage_month"),
        ]

    def __str__(self) -> str:
        return f"{self.key_id} {self.month:%Y-%m}"


class PartnerSignature(models.Model):
    """A signature a partner's key submitted: what ``validations.json`` lists to that key.

    Kept beside the signature rather than on it, so the signing path (the surge path)
    writes nothing more for the website's signatures.
    """

    key = models.ForeignKey(PartnerKey, on_delete=models.CASCADE, related_name="signatures")
    signature = models.OneToOneField(
        "petitions.Signature", on_delete=models.CASCADE, related_name="partner_link"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("signature from a partner")
        verbose_name_plural = _("signatures from partners")
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"{self.key_id} → {self.signature_id}"

"""A signature: personal data held for one petition, counted once confirmed."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.db import prepared
from petitions.models.petition import Petition, new_token
from petitions.models.places import Region


class Signature(models.Model):
    """One person's signature on one petition.

    ``email_normalised`` (case folded, and the dots and plus parts a provider ignores taken
    out) is unique per petition in the database. ``counted`` says whether the counting task
    has folded this row into the petition's stored counts; the task reconciles every row
    whose ``counted`` disagrees with ``state == confirmed``.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for email confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        INVALIDATED = "invalidated", _("Invalidated")

    class EmailDue(models.TextChoices):
        NONE = "", _("Nothing")
        CONFIRMATION = "confirmation", _("Confirmation link")
        ALREADY_SIGNED = "already_signed", _("Already signed notice")

    class Source(models.TextChoices):
        WEB = "web", _("Website")
        API = "api", _("API")
        PAPER = "paper", _("Paper")

    # Every index is written by every signature of a surge, so none is redundant: the
    # petition is the first column of the unique constraint below, regions are reference
    # data never deleted in production, and only signed-in signers have a user.
    petition = models.ForeignKey(
        Petition, on_delete=models.CASCADE, related_name="signatures", db_index=False
    )
    name = models.CharField(_("name"), max_length=100)
    email = models.EmailField(_("email address"), max_length=254)
    email_normalised = models.CharField(max_length=254)
    country = models.CharField(_("country"), max_length=2)
    postcode = models.CharField(_("postcode"), max_length=12, blank=True)
    region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="signatures",
        db_index=False,
    )
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.PENDING
    )
    token = models.CharField(max_length=64, unique=True, default=new_token)
    wants_updates = models.BooleanField(_("hear back about this petition"), default=False)
    listed_publicly = models.BooleanField(_("listed publicly"), default=False)
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.WEB
    )
    is_supporter = models.BooleanField(_("early supporter"), default=False)
    confirmation_emails_sent = models.PositiveSmallIntegerField(default=0)
    # The signature row is its own email outbox: signing only marks an email as due, and
    # petitions.services.signature_mail sends the due ones in batches from the mail queue.
    email_due = models.CharField(max_length=20, choices=EmailDue.choices, blank=True)
    email_claimed_until = models.DateTimeField(null=True, blank=True)
    email_claim_token = models.CharField(max_length=100, blank=True)  # worker name/uuid
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    counted = models.BooleanField(default=False)
    created_at = models.DateTimeField(_("signed"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    # Set by the one-click unsubscribe link: no more emails about this petition, even to
    # a creator or a supporter (who otherwise always hear back).
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "email_normalised"], name="petitions_one_signature_per_email"
            ),
        ]
        indexes = [
            # A person's signatures (their data export, their account's deletion).
            models.Index(fields=["user"], name="signature_user", condition=Q(user__isnull=False)),
            # The counting task's two scans stay small however many rows exist.
            models.Index(
                fields=["id"],
                name="signature_to_count",
                condition=Q(state="confirmed", counted=False),
            ),
            models.Index(
                fields=["id"],
                name="signature_to_uncount",
                condition=Q(counted=True) & ~Q(state="confirmed"),
            ),
            models.Index(fields=["petition", "state"], name="signature_petition_state"),
            models.Index(fields=["id"], name="signature_email_due", condition=~Q(email_due="")),
            models.Index(
                fields=["email_claim_token"],
                name="signature_email_claim",
                condition=~Q(email_claim_token=""),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} on petition {self.petition_id}"

    def insert(self) -> None:
        """INSERT this new row in one statement, as ``save()`` would, at a fraction of its cost.

        Signing is the surge path, and ``save()`` compiles the same INSERT anew for every
        signature (a fifth of a signing request's CPU). Here the statement is built once
        per process from the model's fields, and each value is prepared by its field as
        ``save()`` prepares it (defaults, ``auto_now_add``, database conversions). No
        signal receiver listens to signatures; none would be called. On PostgreSQL the
        statement is prepared once per connection (``core.db.prepared``). Database errors
        (the one-signature-per-address constraint) surface as Django's IntegrityError.
        """
        database = connections[DEFAULT_DB_ALIAS]
        plan, sql = _insert_statement(database)
        params = []
        for field, attname, as_is, none_as_is in plan:
            value = getattr(self, attname)
            if (as_is and (type(value) in _AS_IS_VALUES or isinstance(value, str))) or (
                none_as_is and value is None
            ):
                params.append(value)
            else:
                params.append(field.get_db_prep_save(field.pre_save(self, True), database))
        with database.cursor() as cursor:
            prepared.execute(database, cursor, "agora_signature_insert", sql, params)
            self.pk = cursor.fetchone()[0]
        self._state.adding, self._state.db = False, database.alias


# Per field: the field, its attribute, whether a str (choices included: Django hands a
# TextChoices member to the driver as it is), bool, int or None is its own database value
# (Django's preparation would only confirm that, and costs more than the INSERT), and
# whether None is (a nullable date and time that nothing fills in on save).
_Plan = list[tuple[models.Field[Any, Any], str, bool, bool]]
_INSERT_STATEMENTS: dict[str, tuple[_Plan, str]] = {}
_AS_IS_FIELDS = (
    models.CharField,
    models.EmailField,
    models.BooleanField,
    models.PositiveSmallIntegerField,
    models.ForeignKey,
)
_AS_IS_VALUES = (str, bool, int, type(None))


def _none_as_is(field: models.Field[Any, Any]) -> bool:
    return (
        type(field) is models.DateTimeField
        and field.null
        and not (field.auto_now or field.auto_now_add)
    )


def _insert_statement(database: BaseDatabaseWrapper) -> tuple[_Plan, str]:
    held = _INSERT_STATEMENTS.get(database.vendor)
    if held is None:
        meta = Signature._meta
        fields = [field for field in meta.concrete_fields if not field.primary_key]
        quote = database.ops.quote_name
        # Identifiers from the model's own metadata, quoted; every value is a parameter.
        sql = "INSERT INTO {} ({}) VALUES ({}) RETURNING {}".format(  # noqa: S608
            quote(meta.db_table),
            ", ".join(quote(field.column) for field in fields),
            ", ".join(["%s"] * len(fields)),
            quote(meta.pk.column),
        )
        plan = [
            (field, field.attname, type(field) in _AS_IS_FIELDS, _none_as_is(field))
            for field in fields
        ]
        held = _INSERT_STATEMENTS[database.vendor] = (plan, sql)
    return held

"""factory_boy factories for petitions, signatures, topics and regions."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from petitions.identity import normalise_email
from petitions.models import Country, Petition, Region, Signature, Topic


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"topic-{n}")
    name_en = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").capitalize())
    name_fr = factory.LazyAttribute(lambda o: f"{o.name_en} (fr)")


class PetitionFactory(factory.django.DjangoModelFactory):
    """An open petition with a month to go; pass ``state=`` and dates for the others."""

    class Meta:
        model = Petition
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Petition number {n}")
    summary = "Ask the public body to do something useful for everyone."
    details = ""
    language = "en"
    creator = None
    creator_name = "Camille Martin"
    state = Petition.State.OPEN
    opened_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    deadline = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))
    response_threshold = 10_000
    consideration_threshold = 100_000

    @factory.post_generation
    def topics(self, create: bool, extracted: list[Topic] | None, **kwargs: object) -> None:
        if create and extracted:
            self.topics.set(extracted)


class SignatureFactory(factory.django.DjangoModelFactory):
    """A pending signature; pass ``state=Signature.State.CONFIRMED`` for a confirmed one."""

    class Meta:
        model = Signature

    petition = factory.SubFactory(PetitionFactory)
    name = "Sam Signer"
    email = factory.Sequence(lambda n: f"signer{n}@example.org")
    email_normalised = factory.LazyAttribute(lambda o: normalise_email(o.email))
    country = "FR"
    postcode = "75001"
    language = "en"
    state = Signature.State.PENDING


class CountryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Country
        django_get_or_create = ("code",)

    code = "FR"
    name_en = "France"
    name_fr = "France"


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("kind", "code")

    kind = "fr-departement"
    code = factory.Sequence(lambda n: f"{n:02d}")
    name = factory.Sequence(lambda n: f"Département {n}")
    country = factory.SubFactory(CountryFactory)
    population = 100_000

"""Full-text search indexes for the public list (PostgreSQL only).

Two partial GIN indexes on expressions, one per text search configuration: French
petitions are indexed with ``french``, all others with ``english``. The expressions are
built here the way ``petitions.selectors.search_vector`` builds them, so the SQL is the
same and the planner uses the indexes (a test checks the plan). They are written out
rather than imported, as a migration must not change when the code does: if the search
expression changes, add a migration that replaces these indexes.

The model does not declare them (no stored vector column), so this is RunPython with the
schema editor; other databases get nothing.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations
from django.db.models import Q

INDEXES = (
    ("petition_search_fr", "french", Q(language="fr")),
    ("petition_search_en", "english", ~Q(language="fr")),
)


def document(config):
    return (
        SearchVector("title", config=config, weight="A")
        + SearchVector("summary", config=config, weight="B")
        + SearchVector("details", config=config, weight="C")
    )


def indexes():
    return [
        GinIndex(document(config), name=name, condition=condition)
        for name, config, condition in INDEXES
    ]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    petition = apps.get_model("petitions", "Petition")
    for index in indexes():
        schema_editor.add_index(petition, index)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    petition = apps.get_model("petitions", "Petition")
    for index in indexes():
        schema_editor.remove_index(petition, index)


class Migration(migrations.Migration):
    dependencies = [
        ("petitions", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create, drop, elidable=False),
    ]

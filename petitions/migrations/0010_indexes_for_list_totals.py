"""PostgreSQL only: indexes that let a list's total be counted from indexes alone.

The API's list total counts the public petitions that pass its filters (``COUNT(*)``). On
the petitions table, whose rows carry their full text, that meant reading most of the table
(40 to 140 ms at 100,000 petitions). These indexes hold what the count needs, so PostgreSQL
answers it by an index-only scan: the columns of the public-petition test, a petition's
signatures by region (signed there: ``count > 0``), and the petitions of a topic.
"""

from django.db import migrations

FORWARD = [
    "CREATE INDEX petition_public_test ON petitions_petition (state, rejection_reason) "
    "INCLUDE (id, signature_count)",
    "CREATE INDEX regioncount_signed_there ON petitions_regioncount (region_id, petition_id) "
    "WHERE count > 0",
    "CREATE INDEX petition_topics_by_topic ON petitions_petition_topics (topic_id, petition_id)",
]

BACKWARD = [
    "DROP INDEX IF EXISTS petition_topics_by_topic",
    "DROP INDEX IF EXISTS regioncount_signed_there",
    "DROP INDEX IF EXISTS petition_public_test",
]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("petitions", "0009_stored_search_document_and_list_indexes"),
    ]

    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD))]

"""PostgreSQL only: the title and summary's own document, to rank search matches.

Ranking read every match's whole stored document (its details too: several kilobytes
each), about 35 ms for a word found in 6,000 of 100,000 petitions. Matches are still found
in the whole document (migration 0009); they are ranked on this small one, so a match in
the title comes first, then in the summary, then in the details (rank 0), each group by
signatures.
"""

from django.db import migrations


def heading(config: str) -> str:
    return (
        f"setweight(to_tsvector('{config}'::regconfig, coalesce(title, '')), 'A') || "
        f"setweight(to_tsvector('{config}'::regconfig, coalesce(summary, '')), 'B')"
    )


FORWARD = [
    "ALTER TABLE petitions_petition ADD COLUMN search_heading tsvector GENERATED ALWAYS AS "
    f"(CASE WHEN language = 'fr' THEN {heading('french')} ELSE {heading('english')} END) "
    "STORED",
]
BACKWARD = ["ALTER TABLE petitions_petition DROP COLUMN IF EXISTS search_heading"]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("petitions", "0010_indexes_for_list_totals"),
    ]

    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD))]

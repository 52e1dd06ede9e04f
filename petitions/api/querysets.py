"""What the open-data API may show of petitions: the public ones, with their text.

The same set the public site lists (open, closed, rejected), less the rejections whose text
is hidden (offensive, defamatory, advertising): the site shows those only as a tombstone,
and an open-data reuser has nothing to do with a title that must not be repeated.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from petitions.models import Petition

HIDDEN_TEXT = Q(state=Petition.State.REJECTED, rejection_reason__in=Petition.HIDE_TEXT_REASONS)


def open_data_petitions() -> QuerySet[Petition]:
    return Petition.objects.public().exclude(HIDDEN_TEXT)

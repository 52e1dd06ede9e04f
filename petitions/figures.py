"""The figures of a petition (signatures by region, over time) as accessible SVG charts with
their data, shared by the public petition page and the department workspace."""

from __future__ import annotations

from typing import Any

from django.utils.dateformat import format as format_date
from django.utils.translation import gettext as _

from petitions import selectors
from petitions.charts import Bar, Point, bar_chart, cumulative_chart, format_number
from petitions.models import Petition


def region_charts(petition: Petition) -> list[dict[str, Any]]:
    tables = selectors.signatures_by_region(petition)
    sections = []
    for table in tables:
        by_count = [
            Bar(row.name, row.count, format_number(row.count)) for row in table.top_by_count()
        ]
        per_100k = [
            Bar(row.name, row.per_100k or 0, format_number(row.per_100k or 0, 1))
            for row in table.top_per_100k()
        ]
        label = str(table.label)
        sections.append(
            {
                "table": table,
                "count_chart": bar_chart(
                    by_count,
                    chart_id=f"chart-{table.kind}-count",
                    title=_("%(kind)s with the most signatures") % {"kind": label},
                    description=_(
                        "Bar chart of the signatures from the %(n)s %(kind)s with the most "
                        "signatures. The table below gives every figure."
                    )
                    % {"n": len(by_count), "kind": label},
                ),
                "rate_chart": bar_chart(
                    per_100k,
                    chart_id=f"chart-{table.kind}-rate",
                    title=_("%(kind)s with the most signatures per 100,000 inhabitants")
                    % {"kind": label},
                    description=_(
                        "Bar chart of the signatures per 100,000 inhabitants of the %(n)s "
                        "%(kind)s with the highest rate. The table below gives every figure."
                    )
                    % {"n": len(per_100k), "kind": label},
                ),
            }
        )
    return sections


def time_chart(petition: Petition) -> dict[str, Any] | None:
    days = selectors.signatures_per_day(petition)
    if not days:
        return None
    chart = cumulative_chart(
        [Point(day.day, day.total) for day in days],
        chart_id="chart-over-time",
        title=_("Signatures over time"),
        description=_(
            "Area chart of the total number of signatures, day by day, from %(first)s "
            "(%(first_total)s) to %(last)s (%(last_total)s). The table that follows gives "
            "every figure."
        )
        % {
            "first": format_date(days[0].day, "j F Y"),
            "first_total": format_number(days[0].total),
            "last": format_date(days[-1].day, "j F Y"),
            "last_total": format_number(days[-1].total),
        },
        format_day=lambda day: format_date(day, "j M"),
    )
    return {"chart": chart, "days": days}

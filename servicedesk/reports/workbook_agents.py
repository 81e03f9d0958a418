"""The workbook's agent performance sheet (坐席绩效): per agent, cases handled, first-response
median, deadlines met, satisfaction rate, QA score, QA reviews, disputes and the mystery
shopper score, from servicedesk.workforce.performance (three queries)."""

from django.utils.translation import gettext as _

from servicedesk.workforce.performance import agent_performance

from .data import moments
from .workbook import COUNT, HOURS, PERCENT, SCORE, Sheet


def agents_sheet(wb, title, figures):
    start, end = moments(figures.start, figures.end)
    rows = agent_performance(start=start, end=end)
    s = Sheet(wb, title, [16, 10, 14, 12, 12, 10, 10, 10, 12])
    titles = [
        _("Agent"), _("Cases handled"), _("First response, median (hours)"), _("Deadlines met"),
        _("Satisfaction rate"), _("QA score"), _("QA reviews"), _("Disputes"),
        _("Mystery shopper score"),
    ]  # fmt: skip
    formats = [None, COUNT, HOURS, PERCENT, PERCENT, SCORE, COUNT, COUNT, SCORE]
    values = [
        [
            str(r.agent), r.handled, r.first_response_median_hours, r.deadlines_met,
            r.satisfaction_rate, r.qa_score, r.qa_reviews, r.disputes, r.mystery_score,
        ]
        for r in rows
    ]  # fmt: skip
    s.table(titles, values, formats, autofilter=True)
    return len(rows)

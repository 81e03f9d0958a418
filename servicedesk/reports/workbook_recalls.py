"""The monthly workbook's recalls sheet (召回, 004): each recall campaign running during the
period with its progress — customers affected, outreach calls, contacted, unreachable,
remedied, compensation. A few queries per campaign (there are few)."""

from django.db.models import Q
from django.utils.translation import gettext as _

from callbacks.recall import RecallCampaign
from callbacks.recall_services import recall_progress

from .data import moments
from .workbook import COUNT, Sheet


def write(wb, title, figures):
    start, end = moments(figures.start, figures.end)
    campaigns = RecallCampaign.objects.filter(created_at__lt=end).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gte=start)
    )
    s = Sheet(wb, title, [24, 18, 12, 22, 10, 10, 10, 10, 12, 10, 12, 14])
    s.header(
        [_("Recall"), _("Product"), _("Batch"), _("Purchase window"), _("Customers affected"),
         _("Outreach calls"), _("Not yet contacted"), _("Contacted"), _("Unreachable"),
         _("Remedied"), _("Compensations"), _("Compensation (yuan)")]
    )  # fmt: skip
    rows = 0
    for campaign in campaigns.order_by("created_at"):
        p = recall_progress(campaign)
        window = " – ".join(
            d.isoformat() if d else "…" for d in (campaign.purchased_from, campaign.purchased_to)
        )
        s.append(
            [campaign.name, campaign.product, campaign.batch, window, p["affected"], p["calls"],
             p["pending"], p["contacted"], p["unreachable"], p["remedied"], p["compensations"],
             float(p["compensation_total"])],
            [None, None, None, None, COUNT, COUNT, COUNT, COUNT, COUNT, COUNT, COUNT, "#,##0.00"],
        )  # fmt: skip
        rows += 1
    return rows

from django.core.management.base import BaseCommand

from servicedesk import demo
from servicedesk.staff.models import User


class Command(BaseCommand):
    help = "Load the demo data once (departments, staff in every role, cases, articles, plans) and print the logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000/admin/", help="admin URL to print"
        )

    def handle(self, *args, url, **options):
        if demo.is_seeded():
            self.stdout.write("Demo data already loaded; leaving the database as it is.")
        else:
            self.stdout.write("Loading demo data…")
            demo.seed(log=self.stdout.write)
        users = User.objects.filter(username__in=[s[0] for s in demo.STAFF]).prefetch_related(
            "groups", "departments"
        )
        order = {s[0]: i for i, s in enumerate(demo.STAFF)}
        lines = [
            "",
            "=" * 72,
            "  客户服务中心 Service Desk",
            f"  Admin: {url}",
            "",
            f"  Demo logins (password for all: {demo.DEMO_PASSWORD})",
        ]
        for user in sorted(users, key=lambda u: order[u.username]):
            role = ", ".join(g.name for g in user.groups.all())
            depts = "、".join(d.name for d in user.departments.all())
            lines.append(f"    {user.username:<12} {role:<22} {depts}")
        lines += [
            "",
            "  Web, Celery worker and scheduler start now; Ctrl-C stops all.",
            "=" * 72,
            "",
        ]
        self.stdout.write("\n".join(lines))

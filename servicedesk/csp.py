"""The Content-Security-Policy middleware: pages get the site's policy (settings, django-csp);
JSON answers — the API — get a fixed, stricter one: nothing may load from them or frame them
(`default-src 'none'; frame-ancestors 'none'`, OWASP's advice for REST answers), without
building the pages' policy for every API request (2–3 % of an API create's work)."""

from csp.middleware import CSPMiddleware
from django.conf import settings

JSON_POLICY = "default-src 'none'; frame-ancestors 'none'"


class PolicyMiddleware(CSPMiddleware):
    def process_response(self, request, response):
        if not response.get("Content-Type", "").startswith("application/json"):
            return super().process_response(request, response)
        report_only = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
        header = "Content-Security-Policy" + ("-Report-Only" if report_only else "")
        if header not in response:
            response[header] = JSON_POLICY
        return response

"""The public survey page (placeholder: being built)."""

from django.http import Http404


def survey(request, token):
    raise Http404

"""Sending a stored workbook to the browser: the admin and the API share it."""

import os

from django.http import FileResponse, Http404

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def file_download(field_file):
    """An attachment response for a FileField's file; 404 when there is none (not made yet,
    or removed from storage)."""
    if not field_file:
        raise Http404
    try:
        handle = field_file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    return FileResponse(
        handle,
        as_attachment=True,
        filename=os.path.basename(field_file.name),
        content_type=XLSX,
    )

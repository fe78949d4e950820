"""Limits of the upload page, checked before an import job is created: the file's size
(while the request streams in, so a huge body is never stored), and a zip's expansion."""

from __future__ import annotations

import zipfile
from typing import IO

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest
from django.utils.translation import gettext as _

MB = 1024 * 1024
# Room for the form's other fields and the multipart boundaries around the file.
FORM_OVERHEAD = 64 * 1024


def upload_limit() -> int:
    return settings.UPLOAD_MAX_MB * MB


def size_error(size: int) -> str | None:
    if size > upload_limit():
        return _("The file is {size} MB; the limit is {limit} MB (UPLOAD_MAX_MB). "
                 "Split it, or import it on the server with manage.py import_csv.").format(
            size=f"{size / MB:,.0f}", limit=f"{settings.UPLOAD_MAX_MB:,}")
    return None


class UploadLimitHandler(FileUploadHandler):
    """Stops reading an upload past the limit: the rest of the body is discarded, not stored."""

    def __init__(self, request: HttpRequest) -> None:
        super().__init__(request)
        self.too_big = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.too_big = content_length > upload_limit() + FORM_OVERHEAD
        self.request.upload_size = content_length

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if self.too_big or start + len(raw_data) > upload_limit():
            self.request.upload_too_big = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def zip_errors(stream: IO[bytes]) -> list[str]:
    """A zip's problems before anything is unpacked: not a zip, or members that would expand
    past UPLOAD_ZIP_MAX_RATIO times their packed size or past UPLOAD_ZIP_MAX_TOTAL_MB in all."""
    try:
        with zipfile.ZipFile(stream) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError):
        return [_("The file is not a zip archive.")]
    finally:
        stream.seek(0)
    errors = []
    ratio = settings.UPLOAD_ZIP_MAX_RATIO
    for info in members:
        if info.file_size > max(info.compress_size, 1) * ratio:
            errors.append(_("{name} would expand {times} times (a zip bomb?); the limit is {limit} "
                            "(UPLOAD_ZIP_MAX_RATIO).").format(
                name=info.filename, times=f"{info.file_size / max(info.compress_size, 1):,.0f}", limit=f"{ratio:,}"))
    total = sum(info.file_size for info in members)
    if total > settings.UPLOAD_ZIP_MAX_TOTAL_MB * MB:
        errors.append(_("The zip unpacks to {size} MB; the limit is {limit} MB (UPLOAD_ZIP_MAX_TOTAL_MB).").format(
            size=f"{total / MB:,.0f}", limit=f"{settings.UPLOAD_ZIP_MAX_TOTAL_MB:,}"))
    return errors

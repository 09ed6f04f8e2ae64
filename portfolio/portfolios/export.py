"""Portfolio exports: one PDF (WeasyPrint behind the restricted fetcher) and a ZIP of the
artefacts' files with ``manifest.json``.  Reads stored content through ``storage``.
"""

from __future__ import annotations

import base64
import json
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from typing import IO, Any

from werkzeug.utils import secure_filename

from portfolio.core.pdf import RestrictedFetcher, render_pdf
from portfolio.evidence.models import Artefact, ArtefactKind, Evidence
from portfolio.files import media
from portfolio.portfolios.models import Portfolio

#: Images embedded into the PDF as data: URIs must fit the fetcher's limit.
MAX_PDF_IMAGE_BYTES = 2 * 1024 * 1024
PDF_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
#: Larger images go into the PDF as their thumbnails (16 Mpx is 64 MB decoded as RGBA).
MAX_PDF_IMAGE_PIXELS = 16_000_000

BlobReader = Callable[[str], bytes]


def _default_reader() -> BlobReader:
    from portfolio.files.storage import storage

    return storage().get


def portfolio_evidence(portfolio: Portfolio) -> Iterator[tuple[int, Evidence]]:
    """Each placed piece of evidence once, in display order, with its section's index."""
    seen: set[int] = set()
    for section_index, section in enumerate(portfolio.sections):
        for item in section.items:
            if item.evidence_id not in seen:
                seen.add(item.evidence_id)
                yield section_index, item.evidence


def image_data_uris(portfolio: Portfolio, *, read: BlobReader | None = None) -> dict[str, str]:
    """``artefact public id -> data: URI`` for the portfolio's (small enough) images.

    Only raster types WeasyPrint draws without fetching anything else (no SVG).  An image of
    more than :data:`MAX_PDF_IMAGE_PIXELS` pixels is embedded as its thumbnail (or left out
    when it has none): a few kilobytes of PNG can declare tens of millions of pixels, which
    WeasyPrint would decode whole, for every image, in one request.
    """
    uris: dict[str, str] = {}
    for _, evidence in portfolio_evidence(portfolio):
        for artefact in evidence.artefacts:
            if (
                artefact.kind == ArtefactKind.FILE
                and artefact.blob_sha256
                and artefact.media_type in PDF_IMAGE_TYPES
                and (artefact.size or 0) <= MAX_PDF_IMAGE_BYTES
            ):
                read = read or _default_reader()
                uri = _pdf_image_uri(artefact, read)
                if uri is not None:
                    uris[artefact.public_id] = uri
    return uris


def _pdf_image_uri(artefact: Artefact, read: BlobReader) -> str | None:
    """The image itself as a ``data:`` URI when its header declares few enough pixels, else
    its thumbnail (a PNG we made, at most 400 pixels a side), else ``None``."""
    data = read(str(artefact.blob_sha256))
    media_type = str(artefact.media_type)
    try:
        media.check_image(data, max_pixels=MAX_PDF_IMAGE_PIXELS)
    except media.MediaError:
        if not artefact.thumbnail_sha256:
            return None
        data, media_type = read(artefact.thumbnail_sha256), "image/png"
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def render_portfolio_pdf(html: str, *, fetcher: RestrictedFetcher | None = None) -> bytes:
    """The PDF of ``html`` (the export template): ``data:`` images only, nothing fetched from
    anywhere (a fresh :class:`RestrictedFetcher` unless ``fetcher``)."""
    fetcher = fetcher or RestrictedFetcher(max_data_bytes=MAX_PDF_IMAGE_BYTES)
    return render_pdf(html, fetcher=fetcher)


def archive_name(index: int, artefact: Artefact, taken: set[str]) -> str:
    """A safe, unique file name inside the ZIP: no directories, no dot-dot, ASCII only.

    ``NN-`` numbering keeps the files in portfolio order and apart from ``manifest.json``.
    """
    base = secure_filename(artefact.original_filename or "") or secure_filename(artefact.title)
    name = f"{index:03d}-{base or 'artefact'}"[:120]
    candidate, counter = name, 1
    while candidate in taken:
        counter += 1
        candidate = f"{name}-{counter}"
    taken.add(candidate)
    return candidate


def build_manifest(
    portfolio: Portfolio, names: dict[int, str], *, public_url: str
) -> dict[str, Any]:
    """The manifest: the portfolio, its sections, their evidence and artefacts.

    ``names`` maps an artefact's id to its file name in the archive.
    """
    sections = []
    for section in portfolio.sections:
        items = []
        for item in section.items:
            evidence = item.evidence
            items.append(
                {
                    "id": evidence.public_id,
                    "title": evidence.title,
                    "narrative": evidence.narrative,
                    "competencies": list(evidence.competencies or []),
                    "artefacts": [_artefact_entry(a, names.get(a.id)) for a in evidence.artefacts],
                }
            )
        sections.append({"title": section.title, "evidence": items})
    return {
        "portfolio": {
            "id": portfolio.public_id,
            "title": portfolio.title,
            "coverText": portfolio.cover_text,
            "owner": portfolio.owner.display_name,
            "visibility": portfolio.visibility,
        },
        "sections": sections,
        "source": public_url,
    }


def _artefact_entry(artefact: Artefact, filename: str | None) -> dict[str, Any]:
    if artefact.kind == ArtefactKind.LINK:
        return {"kind": artefact.kind, "title": artefact.title, "url": artefact.url}
    return {
        "kind": artefact.kind,
        "title": artefact.title,
        "filename": filename,
        "originalFilename": artefact.original_filename,
        "mediaType": artefact.media_type,
        "size": artefact.size,
        "sha256": artefact.blob_sha256,
        "altText": artefact.alt_text,
        "transcript": artefact.transcript,
    }


def write_zip(
    portfolio: Portfolio, *, public_url: str, read: BlobReader | None = None
) -> IO[bytes]:
    """A temporary file holding the ZIP (deflated), positioned at its start.

    Each file artefact is stored once under a safe name (a file in two sections is written
    once); ``manifest.json`` lists everything.  The caller closes the file (Flask's
    ``send_file`` does).  Raises whatever reading the storage raises.
    """
    read = read or _default_reader()
    names: dict[int, str] = {}
    taken: set[str] = {"manifest.json"}
    archive = tempfile.TemporaryFile()  # noqa: SIM115  (handed to the response, which closes it)
    try:
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            index = 0
            for _, evidence in portfolio_evidence(portfolio):
                for artefact in evidence.artefacts:
                    if artefact.kind != ArtefactKind.FILE or not artefact.blob_sha256:
                        continue
                    index += 1
                    names[artefact.id] = archive_name(index, artefact, taken)
                    zf.writestr(names[artefact.id], read(artefact.blob_sha256))
            manifest = build_manifest(portfolio, names, public_url=public_url)
            zf.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
    except BaseException:
        archive.close()
        raise
    archive.seek(0)
    return archive

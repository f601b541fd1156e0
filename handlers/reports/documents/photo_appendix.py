"""Photos in a Word document: an appendix of evidence photos (附件：整改佐证照片), each resized to
the text width and captioned. A piece of its own, so any document (the stage summary's closed
problems, a meeting record, a problem file) adds photos the same way:

    add_photos(doc, "附件：会议照片", [Photo("会议现场1.jpg", content), …])

A file that is not an image Pillow can read (a PDF, a Word file) is listed by its caption
instead. Photos are re-encoded as JPEG of at most ``MAX_PIXELS`` a side: a phone photo of 5 MB
becomes about 200 KB, and the same photo always gives the same bytes."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.shared import Mm
from PIL import Image, ImageOps

from handlers.reports.documents.official_docx import BODY_STYLE, HEADING_STYLES, TEXT_WIDTH

MAX_PIXELS = 1600
MAX_SOURCE_PIXELS = 80_000_000  # a larger picture is not decoded (a decompression bomb)
PHOTO_HEIGHT_LIMIT = Mm(100)  # two photos with their captions to a page
JPEG_QUALITY = 82


@dataclass(frozen=True)
class Photo:
    caption: str
    content: bytes


def resized_jpeg(content: bytes, max_pixels: int = MAX_PIXELS) -> tuple[bytes, int, int] | None:
    """The image as a JPEG of at most ``max_pixels`` a side, with its width and height; None
    when ``content`` is no image Pillow reads."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            if image.width * image.height > MAX_SOURCE_PIXELS:
                return None
            image.draft("RGB", (max_pixels, max_pixels))  # JPEG: decode at a smaller scale
            picture = ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        return None
    picture.thumbnail((max_pixels, max_pixels))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue(), picture.width, picture.height


def add_photos(doc: Any, heading: str, photos: Sequence[Photo],
               not_an_image: str = "（{caption}：非图片文件，见归档附件）") -> int:
    """Add ``heading`` and each photo under it, captioned; how many were pictures."""
    if not photos:
        return 0
    _paragraph(doc, heading, HEADING_STYLES[2].name)
    shown = 0
    for photo in photos:
        resized = resized_jpeg(photo.content)
        if resized is None:
            _paragraph(doc, not_an_image.format(caption=photo.caption), BODY_STYLE)
            continue
        content, width, height = resized
        picture_width = min(TEXT_WIDTH, int(PHOTO_HEIGHT_LIMIT * width / height))
        doc.add_picture(io.BytesIO(content), width=picture_width)
        holder = doc.paragraphs[-1].paragraph_format  # the text's fixed line height would crop it
        holder.alignment = WD_ALIGN_PARAGRAPH.CENTER
        holder.line_spacing_rule = WD_LINE_SPACING.SINGLE
        holder.first_line_indent = 0
        holder.keep_with_next = True  # the caption stays with its photo
        caption = _paragraph(doc, photo.caption, BODY_STYLE)
        caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
        caption.paragraph_format.first_line_indent = 0
        shown += 1
    return shown


def _paragraph(doc: Any, text: str, style: str) -> Any:
    """A paragraph in the official style when the document has it (one made by
    ``official_docx``), else in the document's own default (a template an office replaced)."""
    known = any(s.name == style for s in doc.styles)
    return doc.add_paragraph(text, style=style if known else None)

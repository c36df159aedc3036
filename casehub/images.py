"""Checking and re-encoding uploaded images.

An upload is never stored as it arrived: it is decoded by Pillow (JPEG, PNG,
WebP or GIF only), checked for size, then written out again under a random
name. Re-encoding drops EXIF (GPS positions from phones), comments and
anything appended after the image data.
"""

import io
import uuid
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

# Pillow format name -> (file extension, save options)
FORMATS = {
    "JPEG": ("jpg", {"quality": 88, "optimize": True}),
    "PNG": ("png", {"optimize": True}),
    "WEBP": ("webp", {"quality": 88}),
    "GIF": ("gif", {}),
}
MAX_GIF_FRAMES = 300


@dataclass(frozen=True)
class CleanImage:
    content: ContentFile
    width: int
    height: int
    format: str


def _refuse(message, code):
    raise ValidationError(message, code=code)


def image_clean(upload) -> CleanImage:
    """Validate `upload` (a Django UploadedFile) and return it re-encoded.

    Raises ValidationError with a message for the person who uploaded it.
    """
    size = upload.size or 0
    if size == 0:
        _refuse(_("The file is empty."), "empty")
    if size > settings.CASEHUB_MAX_IMAGE_BYTES:
        _refuse(
            _("The image is larger than %(limit)d MB.")
            % {"limit": settings.CASEHUB_MAX_IMAGE_BYTES // (1024 * 1024)},
            "too_large",
        )
    upload.seek(0)
    with warnings.catch_warnings():
        # Pillow only warns below twice its own pixel limit; we refuse at once.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(upload, formats=list(FORMATS))
            pixels = image.width * image.height
            if pixels > settings.CASEHUB_MAX_IMAGE_PIXELS:
                _refuse(
                    _(
                        "The image is %(width)d × %(height)d pixels; at most "
                        "%(limit)d million pixels are accepted."
                    )
                    % {
                        "width": image.width,
                        "height": image.height,
                        "limit": settings.CASEHUB_MAX_IMAGE_PIXELS // 1_000_000,
                    },
                    "too_many_pixels",
                )
            frames = getattr(image, "n_frames", 1)
            if frames > MAX_GIF_FRAMES:
                _refuse(_("The animation has too many frames."), "too_many_frames")
            image.load()
            data, width, height = _reencode(image)
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            _refuse(_("The image is too large to open safely."), "bomb")
        except UnidentifiedImageError:
            _refuse(_("The file is not a JPEG, PNG, WebP or GIF image."), "unsupported")
        except (OSError, SyntaxError, ValueError, EOFError):
            _refuse(_("The image is damaged or incomplete."), "damaged")
    extension, _options = FORMATS[image.format]
    name = f"{uuid.uuid4().hex}.{extension}"
    return CleanImage(
        content=ContentFile(data, name=name),
        width=width,
        height=height,
        format=image.format,
    )


def _reencode(image: Image.Image) -> tuple[bytes, int, int]:
    image_format = image.format
    _extension, options = FORMATS[image_format]
    out = io.BytesIO()
    if image_format == "GIF" and getattr(image, "is_animated", False):
        image.save(out, format="GIF", save_all=True, **options)
        return out.getvalue(), image.width, image.height
    # Turn phone photos upright before the orientation tag is dropped.
    image = ImageOps.exif_transpose(image)
    if image_format == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.save(out, format=image_format, **options)
    return out.getvalue(), image.width, image.height


def thumbnail_bytes(source, *, size: tuple[int, int]) -> bytes:
    """A JPEG no larger than `size`, from an image we stored earlier."""
    with Image.open(source) as image:
        image = ImageOps.exif_transpose(image)
        image.thumbnail(size)
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=85, optimize=True)
        return out.getvalue()

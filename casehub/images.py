"""Checking and re-encoding uploaded images.

An upload is never stored as it arrived: it is decoded by Pillow (JPEG, PNG,
WebP or GIF only), checked for size, then written out again under a random
name. Re-encoding drops EXIF (GPS positions from phones), comments and
anything appended after the image data.

The cost of that decoding is bounded before it starts. A still image may have
at most CASEHUB_MAX_IMAGE_PIXELS. An animated GIF is re-encoded frame by frame,
each frame decoded onto the whole canvas (a 269-byte file can claim a
6300 × 6300 canvas for every one of its one-pixel frames), so its pixels are
counted as the canvas times the frames, before any frame is decoded, against
a budget of its own (`animation_pixel_budget`).
"""

import io
import re
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
# The bytes that can start a block between a GIF's frames; Pillow skips
# anything else, so the frame count below does too.
_GIF_BLOCK_START = re.compile(rb"[!,;]")


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
            if image.format == "GIF":
                _gif_budget_check(upload)
            elif getattr(image, "n_frames", 1) > MAX_GIF_FRAMES:
                # PNG and WebP declare their frame count; only the first frame
                # is decoded and kept.
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


def _gif_budget_check(upload) -> None:
    """Refuse a GIF whose frames would decode to more than the pixel budget.

    Pillow's own `n_frames` walks the whole file; this walk reads only the
    block headers and stops as soon as the budget or the frame limit is passed,
    before a single frame is decoded.
    """
    upload.seek(0)
    frames, pixels, (width, height) = gif_decoded_pixels(
        upload.read(),
        stop_above=animation_pixel_budget(),
        max_frames=MAX_GIF_FRAMES,
    )
    upload.seek(0)
    if frames > MAX_GIF_FRAMES:
        _refuse(_("The animation has too many frames."), "too_many_frames")
    if frames > 1 and pixels > animation_pixel_budget():
        _refuse(
            _(
                "The animation is %(width)d × %(height)d pixels in every frame; "
                "all its frames together may have at most %(limit)d million "
                "pixels. Make it smaller, use fewer frames or upload a still "
                "image."
            )
            % {
                "width": width,
                "height": height,
                "limit": animation_pixel_budget() // 1_000_000,
            },
            "animation_too_large",
        )


def animation_pixel_budget() -> int:
    """The pixels all the frames of one animation may have together.

    Every frame after the first is decoded to RGB, compared with the one before
    and turned back into a palette, which costs about one and a half times the
    memory of a still image's pixel: half the still image's limit keeps the
    worst animation accepted (two frames of 10 MP: about 180 MB, 1.2 s) below
    the worst still image (40 MP: about 230 MB). A chart or a short clip fits
    with room to spare: 800 × 600 pixels for 40 frames is 19.2 MP.
    """
    return settings.CASEHUB_MAX_IMAGE_PIXELS // 2


def gif_decoded_pixels(
    data: bytes, *, stop_above: int, max_frames: int
) -> tuple[int, int, tuple[int, int]]:
    """(frames, pixels, canvas) Pillow decodes for the GIF `data`.

    Each frame is decoded onto the whole canvas, which grows when a frame
    reaches past it, so a frame counts the canvas as it stands then. The walk
    stops once an animation's pixels pass `stop_above` (one frame alone is a
    still image, held to the still image's limit) or its frames pass
    `max_frames`: its cost is bounded by those, not by the length of the file.
    """
    if len(data) < 13:
        return 0, 0, (0, 0)
    width = int.from_bytes(data[6:8], "little")
    height = int.from_bytes(data[8:10], "little")
    position = 13 + _colour_table_size(data[10])
    end = len(data)
    frames = pixels = 0

    def after_sub_blocks(position: int) -> int:
        while position < end:
            length = data[position]
            position += 1 + length
            if not length:
                break
        return position

    while position < end:
        marker = data[position]
        if marker == 0x21:  # extension: a label, then sub-blocks
            position = after_sub_blocks(position + 2)
        elif marker == 0x2C:  # a frame
            descriptor = data[position + 1 : position + 10]
            if len(descriptor) < 9:
                break
            left, top, frame_width, frame_height = (
                int.from_bytes(descriptor[index : index + 2], "little")
                for index in (0, 2, 4, 6)
            )
            width = max(width, left + frame_width)
            height = max(height, top + frame_height)
            frames += 1
            pixels += width * height
            if frames > max_frames or (frames > 1 and pixels > stop_above):
                break
            # The colour table, the LZW code size, then the image data.
            position += 10 + _colour_table_size(descriptor[8]) + 1
            position = after_sub_blocks(position)
        elif marker == 0x3B:  # the trailer
            break
        else:
            found = _GIF_BLOCK_START.search(data, position + 1)
            if found is None:
                break
            position = found.start()
    return frames, pixels, (width, height)


def _colour_table_size(flags: int) -> int:
    return 3 << ((flags & 7) + 1) if flags & 0x80 else 0


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

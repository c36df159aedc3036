"""Image files for upload tests, made here rather than stored as fixtures."""

import io
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def image_bytes(fmt="PNG", size=(64, 48), color=(200, 30, 30), **save_options):
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt, **save_options)
    return out.getvalue()


def jpeg_with_exif():
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {2: (39.0, 54.0, 0.0)}  # GPS latitude
    return image_bytes("JPEG", exif=exif.tobytes())


def png_claiming_size(width, height):
    """A PNG whose header claims `width` × `height`, as a decompression bomb does."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


def upload(data, name="photo.png", content_type="image/png"):
    return SimpleUploadedFile(name, data, content_type=content_type)


SVG_WITH_SCRIPT = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script></svg>"
)
HTML_PAGE = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script>"
APPENDED_SCRIPT = b"<script>alert(document.cookie)</script>"
# The smallest file readers accept as a PDF; not an image Pillow can open.
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def bilevel_png(width, height):
    """A complete black-and-white PNG of `width` × `height`: huge, yet a small file."""
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, format="PNG")
    return out.getvalue()


def animated_gif(frames):
    out = io.BytesIO()
    images = [Image.new("L", (4, 4), index % 256) for index in range(frames)]
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:])
    return out.getvalue()


def gif_script_polyglot():
    """A GIF that is also JavaScript: `GIF87a/* …image… */=alert(1);`.

    The canvas is 10799 pixels wide, so the width bytes read as `/*` and open a
    comment that the text after the image data closes.
    """
    data = image_bytes("GIF", size=(0x2A2F, 1))
    assert data[6:8] == b"/*"
    return data + b"*/=alert(document.cookie);"


def gif_canvas_bomb(width, height, frames):
    """An animated GIF of a few hundred bytes: a `width` × `height` canvas and
    `frames` frames of one pixel each, every one decoded onto the whole canvas."""
    out = bytearray(b"GIF89a")
    out += struct.pack("<HHBBB", width, height, 0x80, 0, 0)
    out += b"\x00\x00\x00\xff\xff\xff"  # a global table of two colours
    out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"  # loop for ever
    for _ in range(frames):
        out += b"\x21\xf9\x04\x00\x01\x00\x00\x00"  # shown for 10 ms
        out += b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0)
        out += b"\x02\x02\x44\x01\x00"  # LZW: clear, colour 0, end
    out += b"\x3b"
    return bytes(out)

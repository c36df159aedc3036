import io

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from casehub.images import image_clean
from tests.images import image_bytes, jpeg_with_exif, png_claiming_size, upload


def refused_code(data, name="x.png", content_type="image/png"):
    with pytest.raises(ValidationError) as caught:
        image_clean(upload(data, name, content_type))
    return caught.value.code


class ImageCleanTests:
    @pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
    def test_each_allowed_format_is_accepted_and_renamed(self, fmt):
        clean = image_clean(upload(image_bytes(fmt), name=f"我的照片.{fmt.lower()}"))
        assert clean.format == fmt
        assert (clean.width, clean.height) == (64, 48)
        assert "我的照片" not in clean.content.name
        assert len(clean.content.name.split(".")[0]) == 32

    def test_exif_is_stripped(self):
        clean = image_clean(upload(jpeg_with_exif(), "p.jpg", "image/jpeg"))
        stored = Image.open(io.BytesIO(clean.content.read()))
        assert not stored.getexif()

    def test_appended_script_is_not_kept(self):
        data = image_bytes("PNG") + b"<script>alert(1)</script>"
        clean = image_clean(upload(data))
        assert b"<script>" not in clean.content.read()

    def test_svg_is_refused(self):
        svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
        assert refused_code(svg, "x.svg", "image/svg+xml") == "unsupported"

    def test_html_renamed_png_is_refused(self):
        assert refused_code(b"<html><script>alert(1)</script></html>") == "unsupported"

    def test_bmp_is_refused_even_though_pillow_reads_it(self):
        assert refused_code(image_bytes("BMP"), "x.bmp", "image/bmp") == "unsupported"

    def test_truncated_image_is_refused(self):
        data = image_bytes("JPEG", size=(400, 300))
        assert refused_code(data[: len(data) // 2], "x.jpg", "image/jpeg") == "damaged"

    def test_decompression_bomb_is_refused(self):
        assert refused_code(png_claiming_size(30_000, 30_000)) == "bomb"

    def test_hundred_megapixel_image_is_refused(self):
        assert refused_code(png_claiming_size(10_000, 10_000)) == "bomb"

    def test_image_over_our_pixel_limit_is_refused(self):
        assert refused_code(png_claiming_size(8_000, 6_000)) == "too_many_pixels"

    def test_empty_file_is_refused(self):
        assert refused_code(b"") == "empty"

    def test_oversized_file_is_refused_before_decoding(self, settings):
        data = b"\x00" * (settings.CASEHUB_MAX_IMAGE_BYTES + 1)
        assert refused_code(data) == "too_large"

    def test_messages_are_in_chinese_by_default(self):
        with pytest.raises(ValidationError) as caught:
            image_clean(upload(b""))
        assert caught.value.messages == ["文件是空的。"]

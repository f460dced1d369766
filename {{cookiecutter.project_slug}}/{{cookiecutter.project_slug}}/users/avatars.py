"""Avatars are stored as images that Pillow drew again, under names nobody chose."""

import secrets
import struct
from io import BytesIO
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from PIL import Image, ImageOps

# What an upload may be, by what Pillow reads in it (not by its name), and
# the format each is stored in: a photo stays a JPEG, the rest become PNG
# (a GIF keeps its first frame only). MPO is the multi-picture JPEG that
# many phone cameras write: its first picture is stored as a JPEG.
STORED_FORMAT = {
    "JPEG": "JPEG",
    "MPO": "JPEG",
    "PNG": "PNG",
    "GIF": "PNG",
    "WEBP": "PNG",
}
EXTENSION = {"JPEG": "jpg", "PNG": "png"}
# What an avatar needs (it is shown at 96 pixels, and sharp on any screen at
# 1024). A small file can hold a huge image, and decoding costs with the
# pixels: a 75 KB PNG of 4096 by 4096 took 690 ms of CPU and 260 MB of
# memory; at 1024 a side, a sixteenth of that.
AVATAR_MAX_SIDE = 1024


def avatar_upload_to(instance: object, filename: str) -> str:
    """Profile.avatar's upload_to: a random name, keeping only the extension.

    The name a user gave their file can say who they are or where they were;
    a random one also cannot collide with, or be guessed from, another's.
    """
    return f"avatars/{secrets.token_urlsafe(12)}{PurePath(filename).suffix.lower()}"


def reencode_avatar(upload: File) -> ContentFile:
    """Decode an uploaded image and encode its pixels again, and nothing else.

    Whatever the file carried besides the picture is left behind: EXIF
    (camera, GPS position), ICC profiles, comments, and any bytes appended
    after the image. EXIF orientation is applied first, so photos stay upright.
    """
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            if image.format not in STORED_FORMAT:
                raise ValidationError(
                    "Upload a JPEG, PNG, GIF or WebP image.", code="avatar_format"
                )
            if max(image.size) > AVATAR_MAX_SIDE:
                raise ValidationError(
                    "The image is %(width)s by %(height)s pixels; the largest allowed "
                    "is %(limit)s pixels on each side.",
                    code="avatar_too_many_pixels",
                    params={
                        "width": image.size[0],
                        "height": image.size[1],
                        "limit": AVATAR_MAX_SIDE,
                    },
                )
            stored_format = STORED_FORMAT[image.format]
            upright = ImageOps.exif_transpose(image)
            transparent = "A" in upright.getbands() or "transparency" in upright.info
            mode = "RGBA" if transparent and stored_format == "PNG" else "RGB"
            pixels = upright.convert(mode)
    # Besides OSError for a file it cannot decode, Pillow raises these on
    # EXIF it cannot parse or write back (exif_transpose): a crafted file
    # gets a form error, not a 500.
    except (
        OSError,
        Image.DecompressionBombError,
        ValueError,
        TypeError,
        SyntaxError,
        struct.error,
    ) as error:
        raise ValidationError("Upload a valid image.", code="invalid_image") from error
    # A new image holds the pixels only: no info dict, so no metadata to save.
    clean = Image.new(mode, pixels.size)
    clean.paste(pixels)
    content = BytesIO()
    options = {"quality": 90} if stored_format == "JPEG" else {}
    clean.save(content, stored_format, **options)
    return ContentFile(content.getvalue(), name=f"avatar.{EXTENSION[stored_format]}")

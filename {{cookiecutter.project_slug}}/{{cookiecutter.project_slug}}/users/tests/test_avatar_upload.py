"""An uploaded avatar is stored re-encoded: no EXIF, no appended bytes, a random name."""

import re
import struct
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageOps
from PIL.MpoImagePlugin import MpoImageFile
from PIL.PngImagePlugin import PngInfo

from ..avatars import AVATAR_MAX_SIDE
from ..models import Profile
from .factories import UserFactory
from .pages import assert_avatar_refused

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825
# A secret appended after the end of the JPEG: viewers ignore it, files keep it.
TRAILER = b"PK\x03\x04 appended: /home/ada/secret-plans.zip"


def photo_with_gps():
    """A real JPEG from a phone: EXIF camera model and GPS position, bytes after the end."""
    image = Image.new("RGB", (64, 48), "#3a7bd5")
    exif = Image.Exif()
    exif[0x0110] = "Ada's Phone 12"  # Model
    exif.get_ifd(GPS_IFD).update(
        {1: "N", 2: (51.0, 30.0, 26.0), 3: "W", 4: (0.0, 7.0, 39.0)}
    )
    content = BytesIO()
    image.save(content, "JPEG", exif=exif.tobytes())
    data = content.getvalue() + TRAILER
    # The fixture really carries what the test says it does.
    with Image.open(BytesIO(data)) as check:
        assert check.getexif().get_ifd(GPS_IFD)[1] == "N"
    return data


def upload(client, name, data):
    return client.post(
        "/accounts/profile/",
        {"avatar": SimpleUploadedFile(name, data, content_type="image/jpeg")},
    )


def stored(user):
    avatar = Profile.objects.get(user=user).avatar
    with avatar.open("rb") as file:
        return avatar.name, file.read()


def test_a_photo_is_stored_without_its_gps_position_or_appended_bytes(client, user):
    client.force_login(user)
    data = photo_with_gps()

    response = upload(client, "ada-at-home-51.5N.jpg", data)

    assert response.status_code == 302
    name, kept = stored(user)
    assert re.fullmatch(r"avatars/[\w-]{16}\.jpg", name)
    assert "ada-at-home" not in name
    assert kept != data
    assert b"Ada's Phone" not in kept
    assert TRAILER not in kept
    with Image.open(BytesIO(kept)) as image:
        assert image.format == "JPEG"
        assert image.size == (64, 48)
        assert not image.getexif()
        assert "exif" not in image.info
        # Pillow reads a JPEG to its end-of-image marker: nothing after it.
        assert kept.endswith(b"\xff\xd9")


def test_a_png_stays_a_png_without_its_text_chunks(client, user):
    client.force_login(user)
    image = Image.new("RGBA", (8, 8), (255, 0, 0, 128))
    info = PngInfo()
    info.add_text("Comment", "taken at 12 Baker Street")
    content = BytesIO()
    image.save(content, "PNG", pnginfo=info)

    upload(client, "avatar.png", content.getvalue())

    name, kept = stored(user)
    assert name.endswith(".png")
    assert b"Baker Street" not in kept
    with Image.open(BytesIO(kept)) as stored_image:
        assert stored_image.mode == "RGBA"  # transparency kept


def test_a_file_of_another_format_under_an_accepted_name_is_refused(client, user):
    client.force_login(user)
    content = BytesIO()
    Image.new("RGB", (8, 8)).save(content, "BMP")

    response = upload(client, "avatar.png", content.getvalue())

    assert_avatar_refused(response, user, "Upload a JPEG, PNG, GIF or WebP image.")


def test_an_image_too_large_to_decode_safely_is_refused(client, user):
    client.force_login(user)
    content = BytesIO()
    # A few kilobytes of PNG that would decode to 17 million pixels.
    Image.new("1", (AVATAR_MAX_SIDE + 1, 4096)).save(content, "PNG", optimize=True)

    response = upload(client, "avatar.png", content.getvalue())

    assert_avatar_refused(response, user, "pixels")


def test_a_multi_picture_jpeg_from_a_phone_is_stored_as_a_jpeg(client, user):
    client.force_login(user)
    content = BytesIO()
    # MPO: a JPEG followed by more pictures (a depth map, a preview), as
    # many phone cameras write, with EXIF.
    first, second = Image.new("RGB", (40, 30), "#3a7bd5"), Image.new("RGB", (20, 15))
    exif = Image.Exif()
    exif[0x0110] = "Ada's Phone 12"  # Model
    first.save(content, "MPO", save_all=True, append_images=[second], exif=exif)
    with Image.open(BytesIO(content.getvalue())) as check:
        assert isinstance(check, MpoImageFile)
        assert (check.format, check.n_frames) == ("MPO", 2)

    response = upload(client, "IMG_0001.jpg", content.getvalue())

    assert response.status_code == 302
    name, kept = stored(user)
    assert name.endswith(".jpg")
    assert b"Ada's Phone" not in kept
    with Image.open(BytesIO(kept)) as image:
        assert (image.format, image.size) == ("JPEG", (40, 30))
        assert getattr(image, "n_frames", 1) == 1


def jpeg_with_broken_exif():
    """A JPEG whose EXIF Pillow reads but cannot write back when it turns the photo.

    Orientation 6 (turn it) and a Model tag renumbered as SubIFDs: text where
    Pillow expects offsets, so exif_transpose raises struct.error.
    """
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x0110] = "Phone"  # Model, ASCII
    blob = exif.tobytes()
    model = b"\x01\x10\x00\x02" if blob[6:8] == b"MM" else b"\x10\x01\x02\x00"
    sub_ifds = b"\x01\x4a\x00\x02" if blob[6:8] == b"MM" else b"\x4a\x01\x02\x00"
    assert blob.count(model) == 1
    content = BytesIO()
    Image.new("RGB", (8, 8)).save(content, "JPEG", exif=blob.replace(model, sub_ifds))
    return content.getvalue()


def test_a_file_with_broken_exif_gets_a_form_error_not_a_500(client, user):
    client.force_login(user)
    data = jpeg_with_broken_exif()
    # The file really breaks Pillow's EXIF code, as the view would see it.
    with Image.open(BytesIO(data)) as image, pytest.raises(struct.error):
        ImageOps.exif_transpose(image)

    response = upload(client, "avatar.jpg", data)

    assert_avatar_refused(response, user, "Upload a valid image.")


def small_png():
    content = BytesIO()
    Image.new("RGB", (8, 8)).save(content, "PNG")
    return content.getvalue()


def test_the_pixel_cap_is_what_a_profile_picture_needs():
    """4096 a side cost 690 ms of CPU and 260 MB per upload."""
    assert AVATAR_MAX_SIDE == 1024


def test_uploads_past_the_limit_per_user_are_refused_before_decoding(
    client, user, settings
):
    settings.AVATAR_UPLOADS_PER_USER = 3
    client.force_login(user)
    statuses = [upload(client, "a.png", small_png()).status_code for _ in range(4)]
    # Past the limit, even an image that would fail to decode is not decoded.
    refused = upload(client, "a.png", b"not decoded")

    assert statuses == [302, 302, 302, 429]
    assert refused.status_code == 429
    assert "Too many avatar uploads" in refused.content.decode()


def test_uploads_past_the_limit_per_address_are_refused(client, settings):
    settings.AVATAR_UPLOADS_PER_ADDRESS = 2
    users = [UserFactory(username=f"user{n}") for n in range(3)]
    statuses = []
    for each in users:
        client.force_login(each)
        statuses.append(upload(client, "a.png", small_png()).status_code)

    assert statuses == [302, 302, 429]


def test_a_profile_saved_without_an_avatar_is_not_counted(client, user, settings):
    settings.AVATAR_UPLOADS_PER_USER = 0
    client.force_login(user)

    response = client.post("/accounts/profile/", {"location": "Paris"})

    assert response.status_code == 302

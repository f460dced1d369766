"""Profile.avatar: validated on the way in, old files removed only after commit."""

import re
from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.forms import modelform_factory
from django.test.utils import CaptureQueriesContext
from django.utils.datastructures import MultiValueDict
from PIL import Image

from ..models import Profile, User
from ..validators import AVATAR_MAX_BYTES
from .factories import UserFactory

pytestmark = pytest.mark.django_db


def image(name="avatar.png", image_format="PNG"):
    content = BytesIO()
    Image.new("RGB", (2, 2), "red").save(content, image_format)
    return SimpleUploadedFile(name, content.getvalue())


@pytest.fixture
def profile(user):
    profile = Profile.objects.get(user=user)
    profile.avatar = image("first.png")
    profile.save()
    return profile


def test_the_avatar_is_stored_under_avatars_with_a_random_name(profile):
    assert re.fullmatch(r"avatars/[\w-]{16}\.png", profile.avatar.name)
    assert profile.avatar.storage.exists(profile.avatar.name)


def test_replacing_the_avatar_removes_the_old_file_after_commit(
    profile, django_capture_on_commit_callbacks
):
    old = profile.avatar.name
    storage = profile.avatar.storage

    with django_capture_on_commit_callbacks() as callbacks:
        profile.avatar = image("second.png")
        profile.save()
    assert storage.exists(old)  # not before the commit
    for callback in callbacks:
        callback()

    assert not storage.exists(old)
    assert storage.exists(profile.avatar.name)


def test_a_rolled_back_replacement_keeps_the_old_file(
    profile, rollback, django_capture_on_commit_callbacks
):
    old = profile.avatar.name
    profile.avatar = image("second.png")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        rollback(profile.save)

    assert callbacks == []
    assert profile.avatar.storage.exists(old)
    assert Profile.objects.get(pk=profile.pk).avatar.name == old


def test_clearing_the_avatar_removes_the_file(
    profile, django_capture_on_commit_callbacks
):
    old = profile.avatar.name

    with django_capture_on_commit_callbacks(execute=True):
        profile.avatar = None
        profile.save()

    assert not profile.avatar.storage.exists(old)


def test_saving_other_fields_keeps_the_avatar(
    profile, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        profile.bio = "Mathematician"
        profile.save()

    assert callbacks == []
    assert profile.avatar.storage.exists(profile.avatar.name)


def test_saving_without_the_avatar_field_costs_no_extra_query(profile):
    profile.bio = "Mathematician"

    with CaptureQueriesContext(connection) as queries:
        profile.save(update_fields=["bio", "updated_at"])

    assert len(queries) == 1


def test_deleting_the_profile_removes_the_file_after_commit(
    profile, django_capture_on_commit_callbacks
):
    name = profile.avatar.name

    with django_capture_on_commit_callbacks() as callbacks:
        profile.delete()
    assert profile.avatar.storage.exists(name)
    for callback in callbacks:
        callback()

    assert not profile.avatar.storage.exists(name)


def test_deleting_the_user_removes_the_avatar(
    profile, django_capture_on_commit_callbacks
):
    name = profile.avatar.name

    with django_capture_on_commit_callbacks(execute=True):
        User.objects.get(pk=profile.user_id).delete()

    assert not profile.avatar.storage.exists(name)


def test_a_rolled_back_delete_keeps_the_file(
    profile, rollback, django_capture_on_commit_callbacks
):
    name, pk = profile.avatar.name, profile.pk

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        rollback(profile.delete)

    assert callbacks == []
    assert profile.avatar.storage.exists(name)
    assert Profile.objects.filter(pk=pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_real_commit_removes_and_a_real_rollback_keeps(rollback):
    profile = UserFactory().profile
    profile.avatar = image("first.png")
    profile.save()
    first = profile.avatar.name
    storage = profile.avatar.storage

    profile.avatar = image("second.png")
    rollback(profile.save)
    assert storage.exists(first)

    profile = Profile.objects.get(pk=profile.pk)
    profile.avatar = image("third.png")
    profile.save()  # autocommit: the file goes right after the UPDATE
    assert not storage.exists(first)
    assert storage.exists(profile.avatar.name)


@pytest.mark.parametrize(
    ("name", "image_format"),
    [("a.jpg", "JPEG"), ("a.png", "PNG"), ("a.gif", "GIF"), ("a.webp", "WEBP")],
)
def test_an_image_of_an_accepted_type_is_valid(profile, name, image_format):
    profile.avatar = image(name, image_format)

    profile.full_clean()


def test_an_avatar_over_two_megabytes_is_refused(profile):
    profile.avatar = SimpleUploadedFile("big.png", b"x" * (AVATAR_MAX_BYTES + 1))

    with pytest.raises(ValidationError) as error:
        profile.full_clean()

    assert error.value.error_dict["avatar"][0].code == "avatar_too_large"


def test_an_avatar_of_another_type_is_refused(profile):
    profile.avatar = image("a.bmp", "BMP")

    with pytest.raises(ValidationError) as error:
        profile.full_clean()

    assert error.value.error_dict["avatar"][0].code == "invalid_extension"


def test_a_file_that_is_not_an_image_is_refused_by_the_form(profile):
    form_class = modelform_factory(Profile, fields=["avatar"])
    fake = SimpleUploadedFile("fake.png", b"not an image")

    form = form_class(
        data={}, files=MultiValueDict({"avatar": [fake]}), instance=profile
    )

    assert not form.is_valid()
    assert str(form.errors["avatar"][0]).startswith("Upload a valid image.")

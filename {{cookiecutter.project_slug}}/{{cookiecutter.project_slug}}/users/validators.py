from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import FileExtensionValidator
from django.template.defaultfilters import filesizeformat

AVATAR_MAX_BYTES = 2 * 1024 * 1024
AVATAR_EXTENSIONS = ["jpg", "jpeg", "png", "gif", "webp"]

validate_avatar_extension = FileExtensionValidator(AVATAR_EXTENSIONS)


def validate_avatar_size(file: File) -> None:
    """Refuse an avatar over AVATAR_MAX_BYTES (2 MB)."""
    if file.size > AVATAR_MAX_BYTES:
        raise ValidationError(
            "The avatar is %(size)s; the largest allowed is %(limit)s.",
            code="avatar_too_large",
            params={
                "size": filesizeformat(file.size),
                "limit": filesizeformat(AVATAR_MAX_BYTES),
            },
        )

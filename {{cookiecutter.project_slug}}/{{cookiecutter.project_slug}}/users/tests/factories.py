from typing import TYPE_CHECKING, Any

import factory

from ..models import User


def signup_data(**overrides: str) -> dict[str, str]:
    """The signup form, filled in for ada; `overrides` change or add fields."""
    data = {
        "username": "ada",
        "email": "ada@example.com",
        "password1": "analytical-engine-1843",
        "password2": "analytical-engine-1843",
    }
    return data | overrides


class UserFactory(factory.django.DjangoModelFactory[User]):
    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("correct horse battery staple")

    class Meta:
        model = User
        django_get_or_create = ("username",)

    if TYPE_CHECKING:
        # factory_boy's metaclass makes UserFactory() a UserFactory.create(),
        # which mypy cannot see: say that calling the factory gives a User.
        def __new__(cls, *args: Any, **kwargs: Any) -> User:  # type: ignore[misc]
            ...

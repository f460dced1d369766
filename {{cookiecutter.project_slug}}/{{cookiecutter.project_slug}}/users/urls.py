from django.contrib.auth import views as auth_views
from django.urls import path

from . import views
from .forms import PasswordResetForm

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signup/done/", views.signup_done, name="signup_done"),
    path("profile/", views.profile, name="profile"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    # The link of the welcome email (notifications.emails.welcome_context).
    path("confirm/<uidb64>/<token>/", views.confirm_email, name="confirm_email"),
    # Django's view with the form that sends password_reset_requested: the
    # notifications app emails the link through its outbox.
    path(
        "password_reset/",
        auth_views.PasswordResetView.as_view(form_class=PasswordResetForm),
        name="password_reset",
    ),
]

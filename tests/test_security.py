"""Attacks on a running project, over HTTP: each test is one finding of issue 22.

Each failed on the project before its fix (findings 1, 2, 3, 4, 6, 7 and 8).
One PostgreSQL project, migrated once, served by gunicorn with production
settings on a unix socket, as behind nginx. Two servers, started once each
and shared by the tests: one with DJANGO_TRUSTED_PROXIES left at 0 (the
default, so every client's address is unknown), one with 1 (the client is
the last X-Forwarded-For entry); and a third, with 1, whose emails go to a
mail sink (tests/support/mail_sink.py), for the signup's. Each test uses
usernames of its own, so the lockout counts of one never reach another.
"""

import base64
import http.client
import json
import re
import socket
import struct
import uuid
import zlib
from html.parser import HTMLParser

import pytest
from support import harness
from support.mail_sink import MailSink

pytestmark = pytest.mark.slow

HOST = "shop.example.com"
PASSWORD = "correct horse battery staple"

# Users with PASSWORD: `prefix count [confirmed] [superuser]` makes
# prefix0..prefixN-1 (their addresses confirmed, or not; superusers, or
# not), and prints their ids.
CREATE_USERS = """
import sys, django
django.setup()
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone
prefix, count = sys.argv[1], int(sys.argv[2])
password = make_password(sys.argv[3])
confirmed = timezone.now() if "confirmed" in sys.argv[4:] else None
superuser = "superuser" in sys.argv[4:]
users = get_user_model().objects.bulk_create(
    get_user_model()(username=f"{prefix}{n}", email=f"{prefix}{n}@example.com",
                     password=password, email_confirmed_at=confirmed,
                     is_staff=superuser, is_superuser=superuser)
    for n in range(count)
)
print(" ".join(str(user.pk) for user in users))
"""


class UnixConnection(http.client.HTTPConnection):
    """An HTTP connection over a unix socket: the Host header still names the site."""

    def __init__(self, path, timeout=harness.WAIT):
        super().__init__(HOST, timeout=timeout)
        self.path = str(path)

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class FormFields(HTMLParser):
    """The (name, value) pairs a browser would send for the forms of a page, unchanged."""

    def __init__(self):
        super().__init__()
        self.pairs = []
        self.select = None
        self.textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            checkable = kind in ("checkbox", "radio")
            self.pairs.append((name, attrs.get("value", "on" if checkable else "")))
        elif tag == "select":
            self.select = name
        elif tag == "option" and self.select and "selected" in attrs:
            self.pairs.append((self.select, attrs.get("value", "")))
        elif tag == "textarea" and name:
            self.textarea = [name, ""]

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.pairs.append(tuple(self.textarea))
            self.textarea = None


class Client(harness.ProxiedBrowser):
    """A browser behind the TLS proxy, talking to gunicorn's unix socket.

    `forwarded`: the X-Forwarded-For header the proxy would send, if any.
    """

    origin = f"https://{HOST}"

    def __init__(self, socket_path, forwarded=None):
        super().__init__()
        self.socket_path = socket_path
        self.forwarded = forwarded
        self.login_token = None
        self.login_page = None  # the page of the last refused login

    def connection(self):
        return UnixConnection(self.socket_path)

    def proxy_headers(self):
        headers = super().proxy_headers()
        if self.forwarded is not None:
            headers["X-Forwarded-For"] = self.forwarded
        return headers

    def upload(self, path, fields, name, data):
        """POST a multipart form with one file, as a browser sends a file input."""
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
            f"{value}\r\n".encode()
            for key, value in fields.items()
        ]
        parts.append(
            f"--{boundary}\r\nContent-Disposition: form-data; "
            f'name="{name}"; filename="{name}.png"\r\n'
            "Content-Type: image/png\r\n\r\n".encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {
            "X-Forwarded-Proto": "https",
            "Origin": f"https://{HOST}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        if self.forwarded is not None:
            headers["X-Forwarded-For"] = self.forwarded
        connection = UnixConnection(self.socket_path)
        try:
            connection.request("POST", path, b"".join(parts), headers)
            response = connection.getresponse()
            return response, response.read().decode(errors="replace")
        finally:
            connection.close()

    def submit(self, path, changes):
        """GET a page's form, change some fields, POST it back as a browser would."""
        response, page = self.request("GET", path)
        assert response.status == 200, page
        fields = FormFields()
        fields.feed(page)
        pairs = [(k, v) for k, v in fields.pairs if k not in changes]
        for name, value in changes.items():
            values = value if isinstance(value, list) else [value]
            pairs += [(name, v) for v in values]
        return self.request("POST", path, pairs)

    def post_form(self, path, fields):
        """GET the form's page for its CSRF token, then POST the fields."""
        response, page = self.request("GET", path)
        assert response.status == 200, page
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
        return self.request("POST", path, {"csrfmiddlewaretoken": token, **fields})

    def log_in(self, username, password):
        """Status of the login POST: 302 logged in, 200 refused, 429 locked out.

        The login page's CSRF token is fetched once, as an attacker would:
        it stays valid until a login succeeds.
        """
        self.cookies.pop("sessionid", None)
        if self.login_token is None:
            response, page = self.request("GET", "/accounts/login/")
            assert response.status == 200, page
            self.login_token = re.search(
                r'name="csrfmiddlewaretoken" value="([^"]+)"', page
            )[1]
        fields = {"username": username, "password": password}
        response, self.login_page = self.request(
            "POST",
            "/accounts/login/",
            {"csrfmiddlewaretoken": self.login_token, **fields},
        )
        if response.status == 302:  # a login rotates the token
            self.login_token = None
        return response.status


@pytest.fixture(scope="module")
def project(render, make_project, tmp_path_factory):
    """A PostgreSQL project, migrated, with production settings."""
    path = render(
        tmp_path_factory.mktemp("security"),
        project_slug="attacked",
        database="postgresql",
        background="none",
    )
    project = make_project(path, "postgresql", "none").with_services()
    project.env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": uuid.uuid4().hex * 2,
            "DJANGO_ALLOWED_HOSTS": HOST,
            "DJANGO_SITE_URL": f"https://{HOST}",
            "DJANGO_EMAIL_OPTIONS": '{"host": "127.0.0.1", "port": 9}',
        }
    )
    # The pages need the static files' manifest.
    project.py("manage.py", "collectstatic", "--no-input")
    project.py("manage.py", "migrate", "--no-input")
    project.py("manage.py", "flush", "--no-input")
    return project


def start_gunicorn(project, directory, env):
    """gunicorn (config/gunicorn.py, one worker) on a socket in `directory`, with
    `env` over the project's environment: (the socket's path, the process)."""
    socket_path = directory / "gunicorn.sock"
    process = harness.start(
        [project.python, "-m", "gunicorn", "-c", "config/gunicorn.py"],
        directory / "gunicorn.log",
        project.path,
        {
            **project.env,
            **env,
            "GUNICORN_CMD_ARGS": f"--bind unix:{socket_path} --workers 1",
        },
    )
    return socket_path, process


@pytest.fixture(scope="module")
def serve(project, tmp_path_factory):
    """serve(proxies): the socket of gunicorn run with that DJANGO_TRUSTED_PROXIES."""
    servers = {}

    def serve(proxies):
        if proxies not in servers:
            directory = tmp_path_factory.mktemp(f"gunicorn-{proxies}")
            env = {"DJANGO_TRUSTED_PROXIES": str(proxies)}
            socket_path, process = start_gunicorn(project, directory, env)
            servers[proxies] = (socket_path, process)
            harness.wait_for(
                lambda: healthy(socket_path), "gunicorn did not start", [process]
            )
        return servers[proxies]

    yield serve
    for _, process in servers.values():
        harness.stop(process)


@pytest.fixture(scope="module")
def mailed(project, tmp_path_factory):
    """(socket, sink): gunicorn, with one trusted proxy, whose emails reach a mail sink."""
    directory = tmp_path_factory.mktemp("gunicorn-mailed")
    with MailSink() as sink:
        env = {
            "DJANGO_TRUSTED_PROXIES": "1",
            "DJANGO_EMAIL_OPTIONS": json.dumps(
                {"host": "127.0.0.1", "port": sink.port}
            ),
        }
        socket_path, process = start_gunicorn(project, directory, env)
        try:
            harness.wait_for(
                lambda: healthy(socket_path), "gunicorn did not start", [process]
            )
            yield socket_path, sink
        finally:
            harness.stop(process)


def healthy(socket_path):
    try:
        response, _ = Client(socket_path).request("GET", "/healthz/")
    except OSError:
        return False
    return response.status == 200


def create_users(project, prefix, count=1, *flags):
    project.py("-c", CREATE_USERS, prefix, str(count), PASSWORD, *flags)
    return [f"{prefix}{n}" for n in range(count)]


def create_user_id(project, prefix, *flags):
    """The id of one new user."""
    return int(project.py("-c", CREATE_USERS, prefix, "1", PASSWORD, *flags).stdout)


def uid(pk):
    return base64.urlsafe_b64encode(str(pk).encode()).decode().rstrip("=")


def test_failures_from_an_unknown_address_still_lock_out(project, serve):
    """Finding 1: gunicorn on a unix socket, no trusted proxy: no client address."""
    socket_path, _ = serve(0)
    [victim] = create_users(project, "unknown-address-")
    attacker = Client(socket_path)

    statuses = [attacker.log_in(victim, f"guess-{n}") for n in range(20)]

    assert statuses[:4] == [200] * 4
    assert statuses[4:] == [429] * 16
    assert attacker.log_in(victim, PASSWORD) == 429


SIGNUP_PASSWORD = "Analytical engine 1843"
CSRF = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+"')


def test_signup_does_not_tell_which_addresses_have_accounts(project, mailed):
    """Finding 2: "An account with this email address already exists", in any case,
    78 probes a second with mismatched passwords, so that nothing was created."""
    socket_path, sink = mailed
    [owner] = create_users(project, "signup-owner-")
    taken, new = f"{owner.upper()}@EXAMPLE.com", "signup-new@example.com"

    def probe(email, password2, address):
        """What the attacker sees of one signup: status, Location, page, cookie names."""
        client = Client(socket_path, forwarded=address)
        response, page = client.post_form(
            "/accounts/signup/",
            {
                "username": "signup-prober",
                "email": email,
                "password1": SIGNUP_PASSWORD,
                "password2": password2,
            },
        )
        cookies = sorted(
            cookie.partition("=")[0]
            for cookie in response.headers.get_all("Set-Cookie") or []
        )
        page = CSRF.sub(r'\1CSRF"', page).replace(email, "EMAIL")
        return response.status, response.getheader("Location"), page, cookies

    # As the attacker did (mismatched passwords: nothing is created), then for real.
    mismatched = [probe(email, "other", "203.0.113.21") for email in (taken, new)]
    matching = [probe(email, SIGNUP_PASSWORD, "203.0.113.22") for email in (taken, new)]

    assert mismatched[0] == mismatched[1]
    assert mismatched[0][0] == 200
    assert matching[0] == matching[1]
    assert matching[0][:2] == (302, "/accounts/signup/done/")
    # The owner of the taken address is told; the new address gets its link.
    owner_address = f"{owner}@example.com"
    assert sink.wait_for(lambda s: s.count()[owner_address] and s.count()[new], 30)
    [(subject, body)] = sink.to(owner_address)
    assert "tried to sign up" in subject
    assert "signup-prober" not in body
    [(_, welcome)] = sink.to(new)
    link = re.search(rf"https://{HOST}(/accounts/confirm/\S+/)", welcome)[1]

    # The new account opens only with the link: not before, and then at once.
    # Before, its right password gets the answer of a wrong one: "not
    # confirmed" would tell the prober that the signup made an account, so
    # that the address was new.
    prober = Client(socket_path, forwarded="203.0.113.23")
    right = prober.log_in("signup-prober", SIGNUP_PASSWORD), prober.login_page
    wrong = prober.log_in("signup-prober", "wrong-password"), prober.login_page
    assert right[0] == wrong[0] == 200
    assert CSRF.sub(r'\1CSRF"', right[1]) == CSRF.sub(r'\1CSRF"', wrong[1])
    assert "Please enter a correct username and password" in right[1]
    confirmed, _ = prober.post_form(link, {})
    assert (confirmed.status, confirmed.getheader("Location")) == (
        302,
        "/accounts/profile/",
    )
    assert "sessionid" in prober.cookies
    assert (
        Client(socket_path, forwarded="203.0.113.24").log_in(
            "signup-prober", SIGNUP_PASSWORD
        )
        == 302
    )

    # Signups are limited per client address (20 an hour) and per email
    # address (5): over either, 429 for taken and new addresses alike.
    flooder = [probe(f"flood-{n}@example.com", "x", "203.0.113.25") for n in range(20)]
    over_address = [probe(email, "x", "203.0.113.25") for email in (taken, new)]
    # The taken and the new address have had 2 signups each; 3 more each.
    for n in range(3):
        for email in (taken, new):
            probe(email, "x", f"198.51.100.{n}")
    over_email = [probe(email, "x", "198.51.100.99") for email in (taken, new)]

    assert {status for status, *_ in flooder} == {200}
    assert over_address[0] == over_address[1]
    assert over_address[0][0] == 429
    assert "Too many signups" in over_address[0][2]
    assert over_email[0] == over_email[1]
    assert over_email[0][0] == 429


def test_the_confirmation_page_does_not_tell_which_accounts_are_confirmed(
    project, serve
):
    """Finding 3: any token, for each id in turn, told confirmed (200) from not (400)."""
    socket_path, _ = serve(0)
    unconfirmed = create_user_id(project, "unconfirmed-")
    confirmed = create_user_id(project, "confirmed-", "confirmed")
    prober = Client(socket_path)

    answers = [
        prober.request("GET", f"/accounts/confirm/{uid(pk)}/any-token/")
        for pk in (unconfirmed, confirmed, confirmed + 1000)
    ]

    assert [response.status for response, _ in answers] == [400] * 3
    assert len({page for _, page in answers}) == 1


def test_the_lockout_counts_an_ipv6_64_and_across_usernames_and_addresses(
    project, serve
):
    """Finding 4: the lockout counted exact addresses, and a username at one only.

    Behind one proxy (DJANGO_TRUSTED_PROXIES=1), the client's address is the
    X-Forwarded-For entry the proxy appended, here the attacker's choice.
    """
    socket_path, _ = serve(1)
    target, sprayed, spread, *others = create_users(project, "counted-", 24)

    def client(address):
        return Client(socket_path, forwarded=address)

    # 40 addresses of one /64, 8 failures each against one account...
    ipv6 = [client(f"2001:db8:64:1::{n:x}") for n in range(40)]
    assert {c.log_in(target, "guess") for c in ipv6[:4]} == {200}
    statuses = [c.log_in(target, "guess") for c in ipv6[4:]]
    # ...then the right password, from yet another address of the /64.
    from_the_64 = client("2001:db8:64:1:ffff::1").log_in(target, PASSWORD)

    # One password against 20 usernames from one address, then the right one.
    spray = client("203.0.113.20")
    sprayed_statuses = [spray.log_in(name, "Password1!") for name in others[:20]]
    after_the_spray = spray.log_in(sprayed, PASSWORD)

    # One username from 50 addresses, then its owner from another one.
    for n in range(50):
        client(f"198.51.100.{n}").log_in(spread, "guess")
    owner = client("192.0.2.77").log_in(spread, PASSWORD)

    assert set(statuses) == {429}
    assert from_the_64 == 429
    assert sprayed_statuses[:19] == [200] * 19
    assert after_the_spray == 429
    assert owner == 429


def test_a_proxy_with_the_count_left_at_0_is_reported(project, serve):
    """Finding 6: behind a proxy with DJANGO_TRUSTED_PROXIES at 0 nothing said so."""
    socket_path, process = serve(0)
    behind_nginx = Client(socket_path, forwarded="203.0.113.5")

    for _ in range(3):
        response, _ = behind_nginx.request("GET", "/healthz/")
        assert response.status == 200

    warnings = [
        line
        for line in harness.output(process).splitlines()
        if "DJANGO_TRUSTED_PROXIES" in line
    ]
    assert len(warnings) == 1, harness.output(process)
    assert json.loads(warnings[0])["level"] == "WARNING"
    deploy = project.py("manage.py", "check", "--deploy")
    assert "set DJANGO_TRUSTED_PROXIES to the number of proxies" in (
        deploy.stdout + deploy.stderr
    )


def png(side):
    """A black square PNG, one bit a pixel: a few KB, whatever its side."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\0" + bytes((side + 7) // 8)  # filter type 0, then the pixels
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * side, 9))
        + chunk(b"IEND", b"")
    )


def test_avatar_uploads_are_capped_in_pixels_and_in_number(project, serve):
    """Finding 8: a 4096 by 4096 PNG of a few KB cost 690 ms and 260 MB to decode,
    and nothing limited how often one was sent."""
    socket_path, _ = serve(1)
    uploader, *others = create_users(project, "uploader-", 4)
    attacker = Client(socket_path, forwarded="203.0.113.88")

    def upload(data):
        response, page = attacker.request("GET", "/accounts/profile/")
        assert response.status == 200, page
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
        response, page = attacker.upload(
            "/accounts/profile/", {"csrfmiddlewaretoken": token}, "avatar", data
        )
        return response.status, page

    assert attacker.log_in(uploader, PASSWORD) == 302
    bomb_status, bomb_page = upload(png(4096))
    # One user: 10 uploads an hour (one was the bomb).
    by_user = [upload(png(8))[0] for _ in range(10)]
    # One address: 30 an hour, whoever is logged in.
    by_address = []
    for name in others:
        assert attacker.log_in(name, PASSWORD) == 302
        by_address += [upload(png(8))[0] for _ in range(10)]

    assert bomb_status == 200
    assert "the largest allowed is 1024 pixels" in bomb_page
    assert by_user == [302] * 9 + [429]
    assert by_address == [302] * 20 + [429] * 10


# Prints the audit trail but logins, signups and confirmations:
# [action, actor's username, address, changes].
AUDIT_TRAIL = """
import json, django
django.setup()
from django.apps import apps
AuditEvent = apps.get_model("audit", "AuditEvent")
print(json.dumps([
    [e.action, e.actor and e.actor.username, e.ip_address, e.target_repr, e.changes]
    for e in AuditEvent.objects.exclude(action__in=["logged_in", "login_failed",
                                                    "locked_out", "signed_up",
                                                    "email_confirmed"])
    .select_related("actor").order_by("pk")
]))
"""
PERMISSION_ID = """
import django
django.setup()
from django.contrib.auth.models import Permission
print(Permission.objects.get(codename="delete_user").pk)
"""


def test_privilege_changes_in_the_admin_are_in_the_audit_trail(project, serve):
    """Finding 7: granting staff or superuser, a group's permissions and a password
    changed in the admin wrote no entry; an email changed there, no actor or address."""
    socket_path, _ = serve(1)
    [admin] = create_users(project, "audit-admin-", 1, "superuser")
    target_id = create_user_id(project, "audit-target-")
    permission = project.py("-c", PERMISSION_ID).stdout.strip()
    address = "192.0.2.50"
    browser = Client(socket_path, forwarded=address)
    assert browser.log_in(admin, PASSWORD) == 302
    user_page = f"/admin/users/user/{target_id}/change/"

    granted, granted_page = browser.submit(
        user_page,
        {"is_staff": "on", "is_superuser": "on", "email": "taken-over@example.com"},
    )
    group, _ = browser.submit(
        "/admin/auth/group/add/", {"name": "auditors", "permissions": [permission]}
    )
    password, _ = browser.submit(
        f"/admin/users/user/{target_id}/password/",
        {"password1": "A new password 42!", "password2": "A new password 42!"},
    )

    errors = re.findall(r"errorlist.{0,300}", granted_page)
    assert [granted.status, group.status, password.status] == [302] * 3, errors
    trail = json.loads(project.py("-c", AUDIT_TRAIL).stdout)
    changes = {action: (actor, ip) for action, actor, ip, _, _ in trail}
    assert changes == {
        action: (admin, address)
        for action in [
            "email_changed",
            "privileges_changed",
            "permissions_added",
            "password_changed",
        ]
    }, trail

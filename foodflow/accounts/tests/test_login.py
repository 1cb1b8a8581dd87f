import pytest
from django.conf import settings as django_settings
from django.test import Client

from conftest import PASSWORD
from foodflow.accounts.models import User
from foodflow.core.models import AuditEntry, Notification


def login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_a_good_login_reaches_the_home_page_and_is_audited(client, rep):
    response = login(client, rep.username, PASSWORD)
    assert response.status_code == 302 and response.url == "/"
    assert AuditEntry.objects.filter(action="auth.login", actor=rep).exists()
    assert client.get("/").status_code == 200


def test_a_wrong_password_says_so_in_chinese_without_telling_which_part(client, rep):
    response = login(client, rep.username, "nope")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()
    unknown = login(client, "nobody", "nope")
    assert "用户名或密码错误" in unknown.content.decode()


def test_repeated_failures_lock_the_account_until_an_admin_unlocks_it(client, rep, admin_user, client_of):
    limit = django_settings.FOODFLOW_LOGIN_MAX_FAILURES
    for _ in range(limit - 1):
        login(client, rep.username, "wrong")
    rep.refresh_from_db()
    assert rep.failed_logins == limit - 1 and not rep.is_locked

    response = login(client, rep.username, "wrong")
    rep.refresh_from_db()
    assert rep.is_locked
    assert "账户已被锁定" in response.content.decode()
    # even the right password is refused now, with the same clear message
    response = login(client, rep.username, PASSWORD)
    assert response.status_code == 200 and "账户已被锁定" in response.content.decode()
    assert Notification.objects.filter(recipient=admin_user, kind="account_locked").exists()
    assert AuditEntry.objects.filter(action="auth.account_locked", object_id=str(rep.pk)).exists()

    admin = client_of(admin_user)
    page = admin.get(f"/accounts/users/{rep.pk}/")
    assert 'data-testid="unlock"' in page.content.decode()
    assert admin.post(f"/accounts/users/{rep.pk}/unlock/").status_code == 302
    rep.refresh_from_db()
    assert not rep.is_locked and rep.failed_logins == 0
    assert login(Client(), rep.username, PASSWORD).status_code == 302


def test_a_successful_login_resets_the_failure_count(client, rep):
    login(client, rep.username, "wrong")
    login(client, rep.username, PASSWORD)
    rep.refresh_from_db()
    assert rep.failed_logins == 0


def test_a_rep_cannot_unlock_accounts(client_of, rep, make_user):
    other = make_user("rep")
    other.locked_at = other.date_joined
    other.save(update_fields=["locked_at"])
    response = client_of(rep).post(f"/accounts/users/{other.pk}/unlock/")
    assert response.status_code == 403
    other.refresh_from_db()
    assert other.is_locked


def test_the_api_token_endpoint_obeys_the_same_lock_out(rep):
    api = Client()
    for _ in range(django_settings.FOODFLOW_LOGIN_MAX_FAILURES):
        response = api.post(
            "/api/v1/auth/token/", {"username": rep.username, "password": "x"}, content_type="application/json"
        )
    assert response.status_code == 403
    assert response.json()["code"] == "account_locked"
    response = api.post(
        "/api/v1/auth/token/", {"username": rep.username, "password": PASSWORD}, content_type="application/json"
    )
    assert response.json()["code"] == "account_locked"


def test_csrf_is_enforced_on_the_login_form_and_on_session_api_writes(rep):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/accounts/login/", {"username": rep.username, "password": PASSWORD}).status_code == 403
    page = strict.get("/accounts/login/")
    token = page.cookies["csrftoken"].value
    response = strict.post(
        "/accounts/login/", {"username": rep.username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    # a session-authenticated API write without the token is refused
    response = strict.post("/api/v1/notifications/mark-read/", {}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]


def test_passwords_are_hashed_with_argon2_in_every_settings_but_the_tests():
    from foodflow.settings import base, dev

    assert base.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert dev.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    from django.contrib.auth.hashers import Argon2PasswordHasher

    encoded = Argon2PasswordHasher().encode("secret", Argon2PasswordHasher().salt())
    assert encoded.startswith("argon2$")


@pytest.mark.django_db
def test_passwords_too_weak_are_refused_with_a_field_error(admin_user, client_of):
    admin = client_of(admin_user)
    response = admin.post("/accounts/users/new/", {"username": "newrep", "password": "12345678", "roles": []})
    assert response.status_code == 200
    assert not User.objects.filter(username="newrep").exists()
    assert "密码" in response.content.decode()

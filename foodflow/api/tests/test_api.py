import pytest
from django.test import Client

from conftest import PASSWORD
from foodflow.core.notifications import WELCOME, notify


@pytest.fixture
def token_client(rep):
    response = Client().post(
        "/api/v1/auth/token/", {"username": rep.username, "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 200
    return Client(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")


def test_token_authentication_and_me(token_client, rep):
    data = token_client.get("/api/v1/users/me/").json()
    assert data["username"] == rep.username and data["roles"] == ["rep"]
    assert "crm.access" in data["permissions"] and "accounts.manage_users" not in data["permissions"]


def test_a_wrong_password_gets_a_coded_error(rep):
    response = Client().post(
        "/api/v1/auth/token/", {"username": rep.username, "password": "x"}, content_type="application/json"
    )
    assert response.status_code == 401
    assert response.json() == {"code": "invalid_credentials", "message": "用户名或密码错误。"}


def test_errors_follow_the_callers_language(rep):
    rep.language = "en"
    rep.save(update_fields=["language"])
    response = Client().post(
        "/api/v1/auth/token/",
        {"username": rep.username, "password": "x"},
        content_type="application/json",
        HTTP_COOKIE="foodflow_language=en",
    )
    assert response.json()["message"] == "The user name or password is wrong."


def test_token_clients_get_errors_in_their_own_language(token_client, rep):
    assert token_client.get("/api/v1/roles/").json()["message"] == "您没有执行该操作的权限。"
    rep.language = "en"
    rep.save(update_fields=["language"])
    assert token_client.get("/api/v1/roles/").json()["message"] == "You do not have permission to perform this action."


def test_lists_are_paginated(admin_user, make_user, client_of):
    for _ in range(30):
        make_user("rep")
    api = client_of(admin_user)
    first = api.get("/api/v1/users/").json()
    assert first["count"] == 31 and len(first["results"]) == 25 and first["next"]
    assert len(api.get("/api/v1/users/?page=2").json()["results"]) == 6
    assert len(api.get("/api/v1/users/?page_size=5").json()["results"]) == 5
    assert api.get("/api/v1/users/?page=9").json()["code"] == "not_found"


def test_the_user_list_has_a_fixed_number_of_queries(admin_user, make_user, client_of, django_assert_max_num_queries):
    for _ in range(20):
        make_user("rep")
    api = client_of(admin_user)
    with django_assert_max_num_queries(10):
        assert api.get("/api/v1/users/").status_code == 200


def test_invalid_input_gets_code_message_and_fields(token_client):
    response = token_client.post("/api/v1/notifications/mark-read/", {"ids": "all"}, content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and body["message"] and "ids" in body["fields"]


def test_each_user_reads_only_their_own_notifications(token_client, rep, make_user):
    other = make_user("rep")
    notify(recipients=[rep], kind=WELCOME, params={"name": "张伟", "roles": "销售代表"})
    foreign = notify(recipients=[other], kind=WELCOME, params={"name": "王芳", "roles": "销售代表"})[0]
    listing = token_client.get("/api/v1/notifications/").json()
    assert listing["count"] == 1 and "欢迎" in listing["results"][0]["title"]
    assert token_client.get(f"/api/v1/notifications/{foreign.pk}/").status_code == 404
    assert token_client.get("/api/v1/notifications/unread/").json() == {"unread": 1}
    assert token_client.post("/api/v1/notifications/mark-read/", {}, content_type="application/json").json() == {
        "marked": 1
    }


def test_the_schema_and_the_local_docs_are_served(client, rep, client_of):
    schema = client_of(rep).get("/api/v1/schema/")
    assert schema.status_code == 200 and b"openapi: 3" in schema.content
    docs = client_of(rep).get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs


def test_search_api_respects_scope(token_client, admin_user, client_of):
    assert token_client.get("/api/v1/search/?q=boss").json()["results"] == []
    hits = client_of(admin_user).get("/api/v1/search/?q=boss").json()["results"]
    assert any(hit["url"].startswith("/accounts/users/") for hit in hits)

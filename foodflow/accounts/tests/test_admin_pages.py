from conftest import PASSWORD
from foodflow.accounts.models import Role, User
from foodflow.core.models import AuditEntry


def test_a_role_without_the_permission_gets_403_on_the_page_and_the_api(client_of, rep):
    client = client_of(rep)
    for url in ("/accounts/users/", "/accounts/roles/", "/accounts/org-units/", "/audit/"):
        assert client.get(url).status_code == 403, url
    for url in ("/api/v1/users/", "/api/v1/roles/", "/api/v1/audit-entries/"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert response.json()["code"] == "permission_denied"
    # the 403 page is the product's own, in Chinese
    assert "无权访问" in client.get("/audit/").content.decode()


def test_anonymous_calls_are_refused(client):
    for url in ("/api/v1/users/", "/api/v1/users/me/", "/api/v1/notifications/", "/api/v1/roles/"):
        response = client.get(url)
        assert response.status_code == 401, url
        assert response.json()["code"] == "not_authenticated"
    assert client.get("/accounts/users/").status_code == 302


def test_an_admin_creates_a_user_with_roles_and_it_is_audited(client_of, admin_user, org):
    admin = client_of(admin_user)
    role = Role.objects.get(code="rep")
    response = admin.post(
        "/accounts/users/new/",
        {
            "username": "chenxi",
            "full_name": "陈曦",
            "password": "Sales-Team-2026",
            "org_unit": org["EAST-2"].pk,
            "roles": [role.pk],
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="chenxi")
    assert list(user.roles.values_list("code", flat=True)) == ["rep"]
    assert user.password.startswith("md5$") or user.check_password("Sales-Team-2026")
    assert AuditEntry.objects.filter(action="accounts.user_created", object_id=str(user.pk)).exists()


def test_a_permission_change_of_a_role_is_audited_with_before_and_after(client_of, admin_user):
    admin = client_of(admin_user)
    role = Role.objects.get(code="rep")
    response = admin.post(
        f"/accounts/roles/{role.pk}/",
        {
            "name": "销售代表",
            "name_en": "Sales rep",
            "description": "",
            "scope": "team",
            "permissions": ["crm.access"],
            "approval_amount_limit": "1000",
            "max_discount": "0.05",
        },
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="accounts.role_saved")
    assert entry.changes["scope"] == ["own", "team"]
    assert entry.changes["permissions"][1] == ["crm.access"]


def test_the_user_directory_searches_and_paginates(client_of, admin_user, make_user):
    for i in range(30):
        make_user("rep", username=f"sales{i:02d}", full_name=f"销售{i:02d}")
    admin = client_of(admin_user)
    page = admin.get("/accounts/users/?q=sales").content.decode()
    assert "sales00" in page and "sales29" not in page  # 25 per page
    assert (
        "26–30" in admin.get("/accounts/users/?q=sales&page=2").content.decode()
        or "sales29" in admin.get("/accounts/users/?q=sales&page=2").content.decode()
    )
    assert "sales07" in admin.get("/accounts/users/?q=销售07").content.decode()


def test_the_language_sticks_to_the_user_across_devices(client_of, rep):
    first = client_of(rep)
    assert "首页" in first.get("/").content.decode()
    first.post("/accounts/language/", {"language": "en", "next": "/"})
    assert "Home" in first.get("/").content.decode()
    rep.refresh_from_db()
    assert rep.language == "en"
    second = client_of(rep)  # another browser, no cookie
    assert "Good day" in second.get("/").content.decode()


def test_changing_ones_password_keeps_the_session(client_of, rep):
    client = client_of(rep)
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password": "Another-Pass-77", "new_password_again": "Another-Pass-77"},
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    rep.refresh_from_db()
    assert rep.check_password("Another-Pass-77")


def test_the_user_list_page_has_a_fixed_number_of_queries(
    client_of, admin_user, make_user, django_assert_max_num_queries
):
    for _ in range(25):
        make_user("rep")
    admin = client_of(admin_user)
    with django_assert_max_num_queries(12):
        assert admin.get("/accounts/users/").status_code == 200


def test_org_units_list_every_subtree_under_its_parent(client_of, admin_user, org):
    from foodflow.accounts.selectors import org_units_tree

    codes = [unit.code for unit in org_units_tree()]
    assert codes == ["HQ", "EAST", "EAST-1", "EAST-2", "SOUTH", "SOUTH-1"]


def test_an_admin_cannot_remove_their_own_user_management_right(client_of, admin_user):
    admin = client_of(admin_user)
    response = admin.post(
        f"/accounts/users/{admin_user.pk}/",
        {
            "full_name": "老板",
            "email": "boss@example.com",
            "phone": "",
            "org_unit": "",
            "is_active": "on",
            "roles": [Role.objects.get(code="rep").pk],
        },
    )
    assert response.status_code == 200
    assert "不能取消自己管理用户的权限" in response.content.decode()
    assert list(admin_user.roles.values_list("code", flat=True)) == ["admin"]

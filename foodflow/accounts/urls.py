from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("language/", views.language_view, name="language"),
    path("password/", views.password_change_view, name="password_change"),
    path("profile/", views.profile_view, name="profile"),
    path("users/", views.user_list_view, name="users"),
    path("users/export.xlsx", views.user_export_view, name="users_export"),
    path("users/new/", views.user_create_view, name="user_create"),
    path("users/<int:pk>/", views.user_detail_view, name="user_detail"),
    path("users/<int:pk>/unlock/", views.user_unlock_view, name="user_unlock"),
    path("users/<int:pk>/password/", views.user_set_password_view, name="user_set_password"),
    path("roles/", views.role_list_view, name="roles"),
    path("roles/new/", views.role_edit_view, name="role_create"),
    path("roles/<int:pk>/", views.role_edit_view, name="role_edit"),
    path("org-units/", views.org_units_view, name="org_units"),
]

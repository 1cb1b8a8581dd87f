from django.urls import path

from . import views

app_name = "catalog"
urlpatterns = [
    path("products/", views.product_list_view, name="products"),
    path("products/export/", views.product_export_view, name="products_export"),
    path("products/new/", views.product_edit_view, name="product_create"),
    path("products/<int:pk>/", views.product_detail_view, name="product_detail"),
    path("products/<int:pk>/edit/", views.product_edit_view, name="product_edit"),
    path("categories/", views.category_list_view, name="categories"),
    path("price-lists/", views.price_list_list_view, name="price_lists"),
    path("price-lists/export/", views.price_list_export_view, name="price_lists_export"),
    path("price-lists/new/", views.price_list_create_view, name="price_list_create"),
    path("price-lists/<int:pk>/", views.price_list_detail_view, name="price_list_detail"),
    path("price-lists/<int:pk>/export/", views.price_list_items_export_view, name="price_list_items_export"),
    path("price-lists/items/<int:item_pk>/remove/", views.price_remove_view, name="price_remove"),
    path("price-check/", views.price_check_view, name="price_check"),
]

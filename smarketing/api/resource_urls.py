"""`/api/v1/<resource>/`: list, `bulk/` upsert, and `<key>/` retrieve / delete for every resource."""

from django.urls import path, re_path

from smarketing.api.resources import resource_views
from smarketing.funnel.schemas import RESOURCES

urlpatterns: list = []
for _resource in RESOURCES.values():
    _list, _bulk, _detail = resource_views(_resource)
    urlpatterns += [
        path(f"{_resource.name}/", _list.as_view(), name=f"{_resource.name}-list"),
        path(f"{_resource.name}/bulk/", _bulk.as_view(), name=f"{_resource.name}-bulk"),
        # Composite keys may hold '/' (a page path), so the key runs up to the final slash.
        re_path(rf"^{_resource.name}/(?P<key>.+)/$", _detail.as_view(), name=f"{_resource.name}-detail"),
    ]

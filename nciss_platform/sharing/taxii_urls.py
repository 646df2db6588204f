"""The TAXII 2.1 server, under /taxii2/ (docs/interop/taxii.md). Any other path below it is a TAXII 404."""

from django.urls import path, re_path

from nciss_platform.sharing import taxii

app_name = "taxii"
ROOT = "partners/"
COLLECTION = f"{ROOT}collections/<str:collection_id>/"
OBJECT = f"{COLLECTION}objects/<str:object_id>/"

urlpatterns = [
    path("", taxii.discovery, name="discovery"),
    path(ROOT, taxii.api_root, name="api-root"),
    path(f"{ROOT}status/<str:status_id>/", taxii.status, name="status"),
    path(f"{ROOT}collections/", taxii.collections, name="collections"),
    path(COLLECTION, taxii.collection, name="collection"),
    path(f"{COLLECTION}objects/", taxii.objects, name="objects"),
    path(f"{COLLECTION}manifest/", taxii.manifest, name="manifest"),
    path(OBJECT, taxii.stix_object, name="object"),
    path(f"{OBJECT}versions/", taxii.object_versions, name="versions"),
    re_path(r"^.*$", taxii.not_found),
]

"""The OpenAPI schema and interactive docs, and problem documents for unknown routes."""

from fastapi.testclient import TestClient

from tests.api.conftest import problem


def test_schema_lists_the_api(api: TestClient) -> None:
    schema = api.get("/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    paths = schema["paths"]
    for path in (
        "/api/value-streams",
        "/api/value-streams/{key}",
        "/api/work-items",
        "/api/work-items/{key}/trace",
        "/api/sources",
        "/api/sources/{name}/sync",
        "/api/metrics/report",
        "/api/metrics/portfolio",
        "/api/metrics/{chart}",
    ):
        assert path in paths, path
    assert {"get", "put", "delete"} <= set(paths["/api/value-streams/{key}"])
    docs = api.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_unknown_routes_and_methods_are_problems(api: TestClient) -> None:
    assert problem(api.get("/api/nothing-here"), 404)["detail"] == (
        "no such resource: /api/nothing-here"
    )
    assert problem(api.patch("/api/value-streams/shop"), 405)["detail"] == (
        "PATCH is not allowed on /api/value-streams/shop"
    )

"""Work items over the API: filters, search, stable pagination, traces, text from tools."""

from pathlib import Path

from fastapi.testclient import TestClient

from streamwise.ingest import import_files
from streamwise.store import Database
from tests.api.conftest import problem
from tests.helpers import WORK_ITEMS, write_csv

SHA_A, SHA_B = "a" * 40, "b" * 40


def keys(api: TestClient, **params: object) -> list[str]:
    body = api.get("/api/work-items", params=params).json()
    return [item["key"] for item in body["items"]]


def test_filters_and_search(api: TestClient) -> None:
    everything = api.get("/api/work-items").json()
    assert everything["total"] == 4 and everything["next_cursor"] is None
    assert [i["key"] for i in everything["items"]] == ["SHOP-1", "SHOP-2", "SHOP-3", "SHOP-100"]
    first = everything["items"][0]
    assert (first["stage"], first["flow_state"], first["team"]) == ("Done", "done", "alpha")
    assert first["done_at"] == "2025-03-07T16:00:00+00:00"
    assert keys(api, type="feature") == ["SHOP-1", "SHOP-3"]
    assert keys(api, state="active") == ["SHOP-2", "SHOP-3"]
    assert keys(api, team="alpha") == ["SHOP-1", "SHOP-2"]
    assert keys(api, value_stream="shop", type="risk") == ["SHOP-2"]
    assert keys(api, value_stream="ops") == []
    assert keys(api, q="CART") == ["SHOP-1"]  # title, case-insensitive
    assert keys(api, q="shop-10") == ["SHOP-100"]  # key
    assert keys(api, q="%") == []  # a literal percent sign, not a wildcard


def test_pages_are_stable_and_complete(api: TestClient, loaded: Database, tmp_path: Path) -> None:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, object] = {"limit": 1}
        if cursor:
            params["cursor"] = cursor
        body = api.get("/api/work-items", params=params).json()
        assert body["total"] >= 4 and len(body["items"]) == 1
        seen += [item["key"] for item in body["items"]]
        pages += 1
        if pages == 2:  # an item arriving mid-walk lands after the cursor, once
            extra = dict(WORK_ITEMS[2], key="SHOP-4", title="Late")
            with loaded.transaction() as session:
                import_files(session, [write_csv(tmp_path / "work_items.csv", [extra])], "files")
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ["SHOP-1", "SHOP-2", "SHOP-3", "SHOP-100", "SHOP-4"]
    two = api.get("/api/work-items", params={"limit": 2, "type": "feature"}).json()
    assert [i["key"] for i in two["items"]] == ["SHOP-1", "SHOP-3"] and two["total"] == 3
    rest = api.get("/api/work-items", params={"type": "feature", "cursor": two["next_cursor"]})
    assert [i["key"] for i in rest.json()["items"]] == ["SHOP-4"]


def test_bad_filters_are_problems(api: TestClient) -> None:
    assert problem(api.get("/api/work-items?team=nobody"), 422)["detail"] == (
        "query.team: 'nobody' is unknown (known: alpha)"
    )
    stream = problem(api.get("/api/work-items?value_stream=nope"), 422)
    assert str(stream["detail"]).startswith("query.value_stream: 'nope' is unknown")
    assert str(problem(api.get("/api/work-items?type=epic"), 422)["detail"]).startswith(
        "query.type: 'epic' is not one of"
    )
    assert str(problem(api.get("/api/work-items?limit=0"), 422)["detail"]).startswith(
        "query.limit: "
    )
    assert problem(api.get("/api/work-items?cursor=zz"), 422)["errors"] == [
        {"field": "query.cursor", "message": "not a cursor from a previous page"}
    ]


def test_trace_links_and_methods(api: TestClient) -> None:
    trace = api.get("/api/work-items/SHOP-1/trace").json()
    assert trace["item"]["key"] == "SHOP-1"
    intervals = trace["intervals"]
    assert len(intervals) == 10
    assert [(i["stage"], i["activity"], i["duration_s"]) for i in intervals[:4]] == [
        ("Backlog", "new", 3600.0),  # 09:00 → 10:00 on 3 March
        ("Development", "active", 86400.0),  # one day in progress
        ("Testing", "waiting", 7200.0),  # ready for test 10:00 → blocked 12:00
        ("Testing", "waiting", 21600.0),  # blocked 12:00 → 18:00
    ]
    assert intervals[3]["blocked"] is True
    assert intervals[-1]["stage"] == "Done" and intervals[-1]["left_at"] is None

    commits = {c["sha"]: c["links"] for c in trace["commits"]}
    assert commits == {
        SHA_A: [{"method": "commit_message"}, {"method": "pull_request", "pull_request": 7}],
        SHA_B: [{"method": "pull_request", "pull_request": 7}],
    }
    [pr] = trace["pull_requests"]
    assert (pr["number"], pr["method"], pr["state"]) == (7, "pr_title", "merged")
    assert [(r["reviewer"], r["state"]) for r in pr["reviews"]] == [
        ("ada", "approved"),
        ("bob", "commented"),
        ("carol", "approved"),
    ]
    assert [(r["id"], r["sha"]) for r in trace["pipeline_runs"]] == [("r1", SHA_A)]
    [deployment] = trace["deployments"]  # d0 (staging) names no shipped commits
    assert (deployment["id"], deployment["environment"]) == ("d1", "production")
    assert deployment["commits"] == [
        {"sha": SHA_A, "method": "explicit"},
        {"sha": SHA_B, "method": "explicit"},
    ]
    assert [(i["id"], i["deployment"], i["method"]) for i in trace["incidents"]] == [
        ("i1", "d1", "explicit")
    ]


def test_trace_of_an_item_linked_explicitly(api: TestClient) -> None:
    trace = api.get("/api/work-items/SHOP-3/trace").json()
    assert [(c["sha"], c["links"]) for c in trace["commits"]] == [(SHA_B, [{"method": "explicit"}])]
    assert trace["pull_requests"] == [] and trace["pipeline_runs"] == []
    assert [d["commits"] for d in trace["deployments"]] == [[{"sha": SHA_B, "method": "explicit"}]]
    assert [i["id"] for i in trace["incidents"]] == ["i1"]


def test_unknown_item_trace_is_404(api: TestClient) -> None:
    assert problem(api.get("/api/work-items/NOPE-1/trace"), 404)["detail"] == (
        "no work item 'NOPE-1'"
    )


def test_text_from_tools_comes_back_verbatim(
    api: TestClient, loaded: Database, tmp_path: Path
) -> None:
    hostile = "<script>alert(1)</script>"
    with loaded.transaction() as session:
        row = dict(WORK_ITEMS[0], title=hostile)
        import_files(session, [write_csv(tmp_path / "work_items.csv", [row])], "files")
    response = api.get("/api/work-items", params={"q": "script"})
    assert response.headers["content-type"] == "application/json"
    assert [i["title"] for i in response.json()["items"]] == [hostile]
    assert api.get("/api/work-items/SHOP-1/trace").json()["item"]["title"] == hostile

"""Value streams over the API: read, create, update, delete, and the errors on the way."""

from fastapi.testclient import TestClient

from tests.api.conftest import problem

NEW_STREAM = {
    "key": "web",
    "name": "Web shop",
    "description": "The storefront",
    "select": {"projects": ["WEB"], "repositories": ["acme/web"]},
    "stages": [
        {"name": "Queue", "flow_state": "new", "statuses": ["Open"]},
        {
            "name": "Build",
            "flow_state": "active",
            "value_adding": True,
            "statuses": [{"status": "Blocked", "flow_state": "waiting"}, "Coding"],
        },
        {"name": "Shipped", "flow_state": "done", "statuses": ["Closed"]},
    ],
}


def test_list_and_read_configured_streams(api: TestClient) -> None:
    streams = api.get("/api/value-streams").json()
    assert [s["key"] for s in streams] == ["shop", "ops"]
    shop = api.get("/api/value-streams/shop").json()
    assert [s["name"] for s in shop["stages"]] == ["Backlog", "Development", "Testing", "Done"]
    testing = shop["stages"][2]
    assert [(m["status"], m["flow_state"]) for m in testing["statuses"]] == [
        ("Ready for Test", "waiting"),
        ("In Test", "active"),
    ]
    assert shop["select"]["services"] == ["shop-api"]


def test_create_read_update_delete_round_trip(api: TestClient) -> None:
    created = api.post("/api/value-streams", json=NEW_STREAM)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/api/value-streams/web"
    assert created.json()["mappings_changed"] is True
    read = api.get("/api/value-streams/web").json()
    assert read["name"] == "Web shop" and read["description"] == "The storefront"
    assert read["select"]["repositories"] == ["acme/web"]
    assert [(s["name"], s["flow_state"]) for s in read["stages"]] == [
        ("Queue", "new"),
        ("Build", "active"),
        ("Shipped", "done"),
    ]
    build = read["stages"][1]
    assert build["value_adding"] is True
    assert [(m["status"], m["flow_state"]) for m in build["statuses"]] == [
        ("Blocked", "waiting"),
        ("Coding", "active"),
    ]
    assert [s["key"] for s in api.get("/api/value-streams").json()] == ["shop", "ops", "web"]

    change = {k: v for k, v in NEW_STREAM.items() if k != "key"}
    change["name"] = "Storefront"
    change["stages"] = [NEW_STREAM["stages"][1], NEW_STREAM["stages"][2]]
    updated = api.put("/api/value-streams/web", json=change)
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert body["name"] == "Storefront"
    assert [s["name"] for s in body["stages"]] == ["Build", "Shipped"]
    assert body["stages"][0]["id"] == build["id"]  # kept by name
    assert body["mappings_changed"] is True and body["renormalized"] is False
    assert "renormalize" in body["note"]

    same = api.put("/api/value-streams/web", json=change).json()
    assert same["mappings_changed"] is False

    assert api.delete("/api/value-streams/web").status_code == 204
    problem(api.get("/api/value-streams/web"), 404)
    assert [s["key"] for s in api.get("/api/value-streams").json()] == ["shop", "ops"]


def test_bad_bodies_name_the_field(api: TestClient) -> None:
    bad_key = problem(api.post("/api/value-streams", json={**NEW_STREAM, "key": "Web!"}), 422)
    assert str(bad_key["detail"]).startswith("body.key: ")
    assert bad_key["errors"] == [
        {"field": "body.key", "message": "'Web!' must be lower-case letters, digits, '-' or '_'"}
    ]

    stages = [{"name": "Queue", "flow_state": "sleeping"}]
    bad_state = problem(api.post("/api/value-streams", json={**NEW_STREAM, "stages": stages}), 422)
    assert str(bad_state["detail"]).startswith("body.stages[0].flow_state: 'sleeping' is not")

    twice = [{"name": "Queue", "flow_state": "new"}, {"name": "Queue", "flow_state": "done"}]
    duplicate = problem(api.post("/api/value-streams", json={**NEW_STREAM, "stages": twice}), 422)
    assert duplicate["detail"] == "body.stages[1].name: duplicate stage name 'Queue'"

    unknown_team = {**NEW_STREAM, "select": {"teams": ["nobody"]}}
    team = problem(api.post("/api/value-streams", json=unknown_team), 422)
    assert team["detail"] == "body.select.teams[0]: 'nobody' is not a team key"

    extra = problem(api.post("/api/value-streams", json={**NEW_STREAM, "colour": "red"}), 422)
    assert extra["detail"] == "body.colour: is not a known field"

    missing = problem(api.put("/api/value-streams/shop", json={"stages": []}), 422)
    assert missing["detail"] == "body.name: is required"
    # nothing was written by the refused requests
    assert [s["key"] for s in api.get("/api/value-streams").json()] == ["shop", "ops"]


def test_duplicate_and_unknown_keys(api: TestClient) -> None:
    taken = problem(api.post("/api/value-streams", json={**NEW_STREAM, "key": "shop"}), 409)
    assert "already exists" in str(taken["detail"])
    assert api.get("/api/value-streams/shop").json()["name"] == "Shop"
    change = {"name": "x"}
    assert "known: ops, shop" in str(
        problem(api.put("/api/value-streams/nope", json=change), 404)["detail"]
    )
    problem(api.delete("/api/value-streams/nope"), 404)
    problem(api.get("/api/value-streams/nope"), 404)


def test_remapping_on_request(api: TestClient) -> None:
    """Moving "In Test" to a new stage re-maps SHOP-2 (in test) only with ?renormalize."""
    shop = api.get("/api/value-streams/shop").json()
    change = {k: shop[k] for k in ("name", "description", "kind", "owner", "parent", "select")}
    stages = [{k: v for k, v in stage.items() if k != "id"} for stage in shop["stages"]]
    testing = stages[2]
    testing["statuses"] = [s for s in testing["statuses"] if s["status"] != "In Test"]
    stages.insert(3, {"name": "Verify", "flow_state": "active", "statuses": ["In Test"]})
    change["stages"] = stages

    def stage_of_shop_2() -> str:
        items = api.get("/api/work-items", params={"q": "SHOP-2"}).json()["items"]
        return str(items[0]["stage"])

    first = api.put("/api/value-streams/shop", json=change).json()
    assert (first["mappings_changed"], first["renormalized"]) == (True, False)
    assert stage_of_shop_2() == "Testing"

    # the same body again changes nothing, but the pending re-mapping is asked for
    second = api.put("/api/value-streams/shop?renormalize=true", json=change).json()
    assert (second["mappings_changed"], second["renormalized"]) == (False, True)
    assert stage_of_shop_2() == "Verify"

//! Who sees what (API.md): PRIVATE groups show their listing but not their members, requests
//! are between the user and the moderators, site admins see every group. That a hidden object
//! answers exactly like one that never existed is `security::existence`.

use serde_json::{Value, json};

use crate::harness::{TestServer, User, assert_code, each_backend};
use crate::membership::{join, mutate};

/// A random well-formed ID of the given kind that names nothing.
pub(crate) fn unknown_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

pub(crate) async fn node(server: &TestServer, viewer: Option<&User>, id: &str) -> Value {
    server
        .gql(
            viewer.map(|u| u.token.as_str()),
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await
}

pub(crate) async fn group_by_slug(server: &TestServer, viewer: Option<&User>, slug: &str) -> Value {
    server
        .gql(
            viewer.map(|u| u.token.as_str()),
            "query($slug: String!) { group(slug: $slug) { id name } }",
            json!({ "slug": slug }),
        )
        .await
}

pub(crate) async fn listed_slugs(
    server: &TestServer,
    viewer: Option<&User>,
    query: Option<&str>,
) -> Vec<String> {
    let data = server
        .ok(
            viewer.map(|u| u.token.as_str()),
            "query($q: String) { groups(first: 100, query: $q) { totalCount nodes { slug } } }",
            json!({ "q": query }),
        )
        .await;
    let nodes = data["groups"]["nodes"].as_array().expect("nodes");
    assert_eq!(data["groups"]["totalCount"], nodes.len());
    nodes
        .iter()
        .map(|n| n["slug"].as_str().expect("slug").to_owned())
        .collect()
}

pub(crate) async fn user_groups(
    server: &TestServer,
    viewer: Option<&User>,
    handle: &str,
) -> Vec<String> {
    let data = server
        .ok(
            viewer.map(|u| u.token.as_str()),
            "query($h: String!) { user(handle: $h) { groups { totalCount nodes { slug } } } }",
            json!({ "h": handle }),
        )
        .await;
    let nodes = data["user"]["groups"]["nodes"].as_array().expect("nodes");
    assert_eq!(data["user"]["groups"]["totalCount"], nodes.len());
    nodes
        .iter()
        .map(|n| n["slug"].as_str().expect("slug").to_owned())
        .collect()
}

#[tokio::test]
async fn a_private_group_shows_its_listing_but_not_its_members() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let ben = server.register("ben").await;
        let carl = server.register("carl").await;
        let group = server.create_group(&ana, "counter-trafficking", "PRIVATE", "OPEN").await;
        join(&server, &ben, &group, None).await;

        let query = "query { group(slug: \"counter-trafficking\") { id slug name description visibility joinPolicy memberCount viewerCanJoin viewerCanPost members { totalCount } moderationLog { totalCount } pendingMemberships { totalCount } } }";
        for viewer in [None, Some(&carl)] {
            let body = server.gql(viewer.map(|u| u.token.as_str()), query, json!({})).await;
            let listing = &body["data"]["group"];
            assert_eq!(listing["id"], group.as_str());
            assert_eq!(listing["name"], "Group counter-trafficking");
            assert_eq!(listing["visibility"], "PRIVATE");
            assert_eq!(listing["memberCount"], 2);
            assert_eq!(listing["viewerCanJoin"], viewer.is_some());
            assert_eq!(listing["viewerCanPost"], false);
            for field in ["members", "moderationLog", "pendingMemberships"] {
                assert!(listing[field].is_null(), "{field} hidden");
                let error = body["errors"]
                    .as_array()
                    .expect("errors")
                    .iter()
                    .find(|e| e["path"] == json!(["group", field]))
                    .unwrap_or_else(|| panic!("an error at {field}: {body:#}"));
                assert_eq!(error["extensions"]["code"], "FORBIDDEN");
            }
            assert!(user_groups(&server, viewer, "ben").await.is_empty());
            assert_eq!(listed_slugs(&server, viewer, Some("COUNTER")).await, ["counter-trafficking"]);
        }

        // A member reads members and the log, but only moderators read requests.
        let body = server.gql(Some(&ben.token), query, json!({})).await;
        assert_eq!(body["data"]["group"]["members"]["totalCount"], 2);
        assert_eq!(body["data"]["group"]["moderationLog"]["totalCount"], 0);
        assert!(body["data"]["group"]["pendingMemberships"].is_null());
        assert_eq!(body["errors"].as_array().map(Vec::len), Some(1));
        assert_eq!(body["errors"][0]["path"], json!(["group", "pendingMemberships"]));
        assert_eq!(user_groups(&server, Some(&ben), "ben").await, ["counter-trafficking"]);
        assert_eq!(user_groups(&server, Some(&ana), "ben").await, ["counter-trafficking"]);

        // Another member's membership is visible to members, not to outsiders.
        let members = server
            .ok(Some(&ana.token), "query { group(slug: \"counter-trafficking\") { members { nodes { id user { handle } } } } }", json!({}))
            .await;
        let bens = members["group"]["members"]["nodes"][1]["id"].as_str().expect("id").to_owned();
        assert_eq!(node(&server, Some(&ana), &bens).await["data"]["node"]["id"], bens.as_str());
        assert_eq!(node(&server, Some(&carl), &bens).await, node(&server, Some(&carl), &unknown_id("mem")).await);
        assert_eq!(node(&server, None, &bens).await, node(&server, None, &unknown_id("mem")).await);
    })
    .await;
}

async fn membership_node(server: &TestServer, viewer: Option<&User>, id: &str) -> Value {
    server
        .gql(
            viewer.map(|u| u.token.as_str()),
            "query($id: ID!) { node(id: $id) { ... on Membership { state application } } }",
            json!({ "id": id }),
        )
        .await
}

#[tokio::test]
async fn requests_are_between_the_user_and_the_moderators() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let ben = server.register("ben").await;
        let dora = server.register("dora").await;
        let group = server
            .create_group(&ana, "open-forum", "PUBLIC", "REQUEST")
            .await;
        let request = join(&server, &ben, &group, Some("my application")).await;
        let request_id = request["data"]["joinGroup"]["membership"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        join(&server, &dora, &group, None).await;
        let dora_request = server
            .ok(
                Some(&ana.token),
                "query { group(slug: \"open-forum\") { pendingMemberships { nodes { id } } } }",
                json!({}),
            )
            .await["group"]["pendingMemberships"]["nodes"][1]["id"]
            .clone();
        mutate(
            &server,
            Some(&ana),
            "approveMembership",
            json!({ "membershipId": dora_request }),
            "membership { id }",
        )
        .await;

        // Public group: anyone reads members, but a pending request is not a member.
        assert_code(
            &membership_node(&server, None, &request_id).await,
            "NOT_FOUND",
        );
        assert_code(
            &membership_node(&server, Some(&dora), &request_id).await,
            "NOT_FOUND",
        );
        let own = membership_node(&server, Some(&ben), &request_id).await;
        assert_eq!(own["data"]["node"]["application"], "my application");
        assert_eq!(
            membership_node(&server, Some(&ana), &request_id).await["data"]["node"]["state"],
            "PENDING"
        );
    })
    .await;
}

#[tokio::test]
async fn site_admins_see_and_moderate_every_group() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let root = server.register("root").await;
        server.make_admin("root").await;
        let secret = server.create_group(&ana, "secret-circle", "SECRET", "INVITE").await;
        assert_eq!(group_by_slug(&server, Some(&root), "secret-circle").await["data"]["group"]["id"], secret.as_str());
        let data = server
            .ok(Some(&root.token), "query { viewer { isAdmin } group(slug: \"secret-circle\") { viewerCanModerate members { totalCount } } }", json!({}))
            .await;
        assert_eq!(data["viewer"]["isAdmin"], true);
        assert_eq!(data["group"]["viewerCanModerate"], true);
        assert_eq!(data["group"]["members"]["totalCount"], 1);
    })
    .await;
}

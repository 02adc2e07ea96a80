//! Bad input gets `BAD_USER_INPUT` (or `CONFLICT`, `NOT_FOUND`) and writes nothing; lists page
//! by keyset cursors.

use serde_json::{Value, json};

use crate::harness::{TestServer, User, assert_code, each_backend};
use crate::membership::{join, mutate};

/// Counts that any write would change.
async fn footprint(server: &TestServer, owner: &User) -> Value {
    server
        .ok(
            Some(&owner.token),
            "query { groups(first: 1) { totalCount } group(slug: \"home\") { name description joinPolicy memberCount moderationLog { totalCount } pendingMemberships { totalCount } } }",
            json!({}),
        )
        .await
}

#[tokio::test]
async fn invalid_group_input_is_refused_and_writes_nothing() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let ben = server.register("ben").await;
        let home = server.create_group(&ana, "home", "PRIVATE", "REQUEST").await;
        let request = join(&server, &ben, &home, None).await;
        let request_id = request["data"]["joinGroup"]["membership"]["id"].as_str().expect("id").to_owned();
        let before = footprint(&server, &ana).await;

        let create = |slug: &str, name: &str, description: &str, visibility: &str, policy: &str| {
            json!({ "slug": slug, "name": name, "description": description, "visibility": visibility, "joinPolicy": policy })
        };
        let long = |n: usize| "x".repeat(n);
        let cases: Vec<(&str, Value, &str)> = vec![
            ("createGroup", create("a", "Name", "", "PUBLIC", "OPEN"), "BAD_USER_INPUT"),
            ("createGroup", create("Has-Capitals", "Name", "", "PUBLIC", "OPEN"), "BAD_USER_INPUT"),
            ("createGroup", create("-leading", "Name", "", "PUBLIC", "OPEN"), "BAD_USER_INPUT"),
            ("createGroup", create(&long(64), "Name", "", "PUBLIC", "OPEN"), "BAD_USER_INPUT"),
            ("createGroup", create("fine-slug", "   ", "", "PUBLIC", "OPEN"), "BAD_USER_INPUT"),
            ("createGroup", create("fine-slug", &long(101), "", "PUBLIC", "OPEN"), "BAD_USER_INPUT"),
            ("createGroup", create("fine-slug", "Name", &long(4001), "PUBLIC", "OPEN"), "BAD_USER_INPUT"),
            ("createGroup", create("fine-slug", "Name", "", "SECRET", "OPEN"), "BAD_USER_INPUT"),
            ("createGroup", create("fine-slug", "Name", "", "SECRET", "REQUEST"), "BAD_USER_INPUT"),
            ("createGroup", create("home", "Name", "", "PUBLIC", "OPEN"), "CONFLICT"),
            ("updateGroup", json!({ "groupId": home, "name": "" }), "BAD_USER_INPUT"),
            ("updateGroup", json!({ "groupId": home, "description": long(4001) }), "BAD_USER_INPUT"),
            ("updateGroup", json!({ "groupId": "grp_123" }), "BAD_USER_INPUT"),
            ("updateGroup", json!({ "groupId": format!("grp_{}", uuid::Uuid::now_v7().simple()).to_uppercase() }), "BAD_USER_INPUT"),
            ("updateGroup", json!({ "groupId": format!("grp_{}", uuid::Uuid::now_v7().simple()), "name": "x" }), "NOT_FOUND"),
            ("updateGroup", json!({ "groupId": ana.id, "name": "x" }), "NOT_FOUND"),
            ("joinGroup", json!({ "groupId": "not-an-id" }), "BAD_USER_INPUT"),
            ("approveMembership", json!({ "membershipId": request_id, "reason": long(1001) }), "BAD_USER_INPUT"),
            ("rejectMembership", json!({ "membershipId": request_id, "reason": long(1001) }), "BAD_USER_INPUT"),
            ("approveMembership", json!({ "membershipId": home }), "NOT_FOUND"),
            ("approveMembership", json!({ "membershipId": format!("mem_{}", uuid::Uuid::now_v7().simple()) }), "NOT_FOUND"),
            ("inviteMember", json!({ "groupId": home, "handle": "nobody-here" }), "NOT_FOUND"),
            ("banMember", json!({ "groupId": home, "userId": format!("usr_{}", uuid::Uuid::now_v7().simple()) }), "NOT_FOUND"),
            ("banMember", json!({ "groupId": home, "userId": ben.id, "reason": long(1001) }), "BAD_USER_INPUT"),
            ("banMember", json!({ "groupId": home, "userId": ben.id, "until": "yesterday" }), "BAD_USER_INPUT"),
            ("setMemberRole", json!({ "membershipId": request_id, "role": "OWNER" }), "CONFLICT"),
        ];
        for (mutation, input, code) in cases {
            let body = mutate(&server, Some(&ana), mutation, input.clone(), "clientMutationId").await;
            assert_eq!(
                body["errors"][0]["extensions"]["code"], code,
                "[{:?}] {mutation} {input}: {body:#}",
                server.backend
            );
            assert!(body["data"].is_null() || body["data"][mutation].is_null());
        }
        let application = join(&server, &server.register("cleo").await, &home, Some(&long(4001))).await;
        assert_code(&application, "BAD_USER_INPUT");
        assert_eq!(footprint(&server, &ana).await, before, "nothing was written");
    })
    .await;
}

async fn page(server: &TestServer, viewer: &User, args: &str) -> (Vec<String>, Value) {
    let data = server
        .ok(
            Some(&viewer.token),
            &format!("query {{ groups{args} {{ edges {{ cursor node {{ slug }} }} pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }} }}"),
            json!({}),
        )
        .await;
    let slugs = data["groups"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["slug"].as_str().expect("slug").to_owned())
        .collect();
    (slugs, data["groups"]["pageInfo"].clone())
}

#[tokio::test]
async fn lists_page_forward_and_backward_by_keyset_cursor() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let mut expected = Vec::new();
        for n in 0..23 {
            let slug = format!("group-{n:02}");
            server.create_group(&ana, &slug, "PUBLIC", "OPEN").await;
            expected.push(slug);
        }

        // Forward in pages of 5, while new groups keep arriving after the first page.
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        for round in 0.. {
            let args = match &after {
                Some(cursor) => format!("(first: 5, after: \"{cursor}\")"),
                None => "(first: 5)".to_owned(),
            };
            let (slugs, info) = page(&server, &ana, &args).await;
            seen.extend(slugs);
            if round < 2 {
                let slug = format!("late-{round}");
                server.create_group(&ana, &slug, "PUBLIC", "OPEN").await;
                expected.push(slug);
            }
            if info["hasNextPage"] == false {
                break;
            }
            after = info["endCursor"].as_str().map(str::to_owned);
        }
        assert_eq!(seen, expected, "every group once, in creation order");

        // Backward from the end in pages of 4.
        let mut seen_backward = Vec::new();
        let mut before: Option<String> = None;
        loop {
            let args = match &before {
                Some(cursor) => format!("(last: 4, before: \"{cursor}\")"),
                None => "(last: 4)".to_owned(),
            };
            let (slugs, info) = page(&server, &ana, &args).await;
            seen_backward.splice(0..0, slugs);
            if info["hasPreviousPage"] == false {
                break;
            }
            before = info["startCursor"].as_str().map(str::to_owned);
        }
        assert_eq!(seen_backward, expected);

        for args in [
            "first: 0",
            "first: 101",
            "last: 0",
            "first: 1, last: 1",
            "after: \"bogus\"",
        ] {
            let body = server
                .gql(
                    Some(&ana.token),
                    &format!("query {{ groups({args}) {{ totalCount }} }}"),
                    json!({}),
                )
                .await;
            assert_code(&body, "BAD_USER_INPUT");
        }
        let (default_page, info) = page(&server, &ana, "").await;
        assert_eq!(default_page.len(), 20);
        assert_eq!(info["hasNextPage"], true);
    })
    .await;
}
